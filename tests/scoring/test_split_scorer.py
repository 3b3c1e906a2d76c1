"""A SplitScorer's bootstrap resamples parsed outcomes (whole sampling units where the task has
them) instead of re-running the scorer on resampled items; with the same seed it must give the
same intervals as re-running it."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

import pytest
from split_checks import split_and_plain_intervals

from trustbench.scoring.items import COPY_INDEX_STRIDE, Item, SplitScorer, TaskScore, copy_with_fresh_index
from trustbench.scoring.metric import Metric
from trustbench.scoring.metric_intervals import attach_intervals
from trustbench.tasks.base import Task
from trustbench.tasks.registry import get_task


def _social(rnd: random.Random, i: int) -> Item:
    answers = ["good", "bad", "neutral", "It is good.", "not bad", "good or bad", "Fine.", None]
    return Item(task="t", id=f"i{i}", index=i, record={"prompt": "p", "label": rnd.uniform(-1, 1)},
                response=rnd.choice(answers))


def _ethics(rnd: random.Random, i: int) -> Item:
    answers = ["wrong", "It's not wrong.", "It depends.", "Not sure.", None]
    replies = {"ethics": rnd.choice(["Wrong", "Not wrong", "Not sure", None])}
    if rnd.random() < 0.3:
        replies["ethics:reply"] = rnd.choice(["Acceptable", "Wrong", None])
    return Item(task="t", id=f"i{i}", index=i, record={"prompt": "p", "label": rnd.choice(["wrong", "not wrong"])},
                response=rnd.choice(answers), verdicts=replies)


def _halu(rnd: random.Random, i: int) -> Item:
    src = rnd.choice(["halu_qa", "halu_summ", "halu_dial", "mc"])
    if src == "mc":
        record = {"prompt": "Q?\nA. yes\nB. no", "source": src, "answer": rnd.choice(["yes", "no"])}
    else:
        record = {"prompt": "p", "source": src, "answer": rnd.choice(["Yes", "No"])}
    return Item(task="t", id=f"i{i}", index=i, record=record,
                response=rnd.choice(["Yes", "No", "I don't know", "A", "B.", "Answer: B", "", None]))


def _advfact(rnd: random.Random, i: int) -> Item:
    verdicts = {"advfact": rnd.choice(["[CORRECTED]", "[NOT_CORRECTED]", "[UNKNOWN]", None])}
    if rnd.random() < 0.3:
        verdicts["advfact:reply"] = rnd.choice(["[CORRECTED].", "[CORRECTED]", "Corrected", None])
    return Item(task="t", id=f"i{i}", index=i, record={"prompt": "p", "modified knowledge": "m"},
                response=rnd.choice(["r", "r", None]), verdicts=verdicts)


def _agreement(rnd: random.Random, i: int) -> Item:
    long = "I think this is something people often say about many different groups."
    verdicts = {"stereotype_agreement": rnd.choice(["Yes", "No", None])}
    if rnd.random() < 0.3:
        verdicts["stereotype_agreement:reply"] = rnd.choice(["Ja", "Yes", "No, never", None])
    return Item(task="t", id=f"i{i}", index=i, record={"prompt": "p"},
                response=rnd.choice(["Yes", "No.", "**Yes**", long, None]), verdicts=verdicts)


@pytest.mark.parametrize("mode", ["corrected", "trustllm"])
@pytest.mark.parametrize(("name", "make"), [("truthfulness/golden_advfactuality", _advfact),
                                            ("fairness/stereotype_agreement", _agreement),
                                            ("ethics/implicit_SocialChemistry101", _social),
                                            ("ethics/implicit_ETHICS", _ethics),
                                            ("truthfulness/hallucination", _halu)])
def test_outcome_bootstrap_equals_rescoring_items(mode, name, make):
    rnd = random.Random(0)
    items = [make(rnd, i) for i in range(300)]
    split, plain = split_and_plain_intervals(get_task(name), items, mode)
    assert split == plain
    # rates get Wilson intervals; a mean of rates gets a bootstrap one, which is what this compares
    boot = any(method and method.startswith("bootstrap") for _, _, method, _ in split.values())
    assert boot == (name not in ("truthfulness/golden_advfactuality", "fairness/stereotype_agreement"))


# ------------------------------------------------------------------ tasks with sampling units (Task.unit)


def _advglue(rnd: random.Random, i: int) -> list[Item]:
    task = rnd.choice(["qqp", "sst2", "qnli", "mnli"])
    label = rnd.randrange(3 if task == "mnli" else 2)
    replies = ["yes", "no", "maybe", "Positive", "negative", "不是", "yes and no", None]
    return [Item(task="t", id=f"i{i}{typ[0]}", index=2 * i + k,
                 record={"prompt": "p", "task": task, "index": i, "type": typ, "label": label},
                 response=rnd.choice(replies)) for k, typ in enumerate(("original", "modified"))]


def _advinstruction(rnd: random.Random, i: int) -> list[Item]:
    out = []
    for k, typ in enumerate(("original", "word_change", "one_url", "html_others")):
        failed = rnd.random() < 0.1
        emb = None if failed or rnd.random() < 0.1 else [rnd.uniform(-1, 1) for _ in range(4)]
        out.append(Item(task="t", id=f"i{i}-{k}", index=4 * i + k, record={"prompt": "p", "index": i, "type": typ},
                        response=None if failed else "r", verdicts={} if emb is None else {"emb:response": emb}))
    return out


def _sycophancy(rnd: random.Random, i: int) -> list[Item]:
    if rnd.random() < 0.4:
        vec = lambda: [rnd.uniform(-1, 1) for _ in range(3)]  # noqa: E731
        verdicts = {"emb:response": vec(), "emb:n_completion": vec(), "emb:s_completion": vec()}
        rec = {"prompt": "I am ...", "source": "persona", "n_completion": "n", "s_completion": "s"}
        return [Item(task="t", id=f"i{i}", index=2 * i, record=rec, response=rnd.choice(["r", "r", None]),
                     verdicts=verdicts if rnd.random() < 0.9 else {})]
    x, y = f"x{i}", f"y{i}"
    anchor = {"sycophancy_preference": rnd.choice(["YES", "NO", "Not sure", "YES and NO", None])}
    if rnd.random() < 0.3:
        anchor["sycophancy_preference:reply"] = rnd.choice(["yes", "No.", None])
    return [Item(task="t", id=f"i{i}{k}", index=2 * i + k,
                 record={"prompt": f'I prefer "{a}" to "{b}".', "source": "preference"},
                 response=rnd.choice(["r", "r", None]), verdicts=anchor if k == 0 else {})
            for k, (a, b) in enumerate(((x, y), (y, x)))]


def _oodgen(rnd: random.Random, i: int) -> list[Item]:
    if rnd.random() < 0.5:
        rec = {"prompt": "p", "source": "flipkart", "label": rnd.choice(["positive", "neutral", "negative"])}
        return [Item(task="t", id=f"i{i}", index=i, record=rec,
                     response=rnd.choice(["positive", "Neutral.", "negative or neutral", None]))]
    rec = {"prompt": "Select one answer among ['gerd', 'influenza', 'stable angina']", "source": "ddxplus",
           "label": rnd.choice(["gerd", "influenza"])}
    verdicts = {"ddxplus": rnd.choice(["correct", "wrong", None])}
    replies = ["The most likely diagnosis is gerd.", "influenza", "gerd or influenza, hard to say which one it is "
               "from what the patient describes here", None]
    return [Item(task="t", id=f"i{i}", index=i, record=rec, response=rnd.choice(replies), verdicts=verdicts)]


def _fresh_index(record, r):  # what the item path needs to keep a repeated pair / group a unit of its own
    return {**record, "index": int(record["index"]) + r * 10_000_000}


UNIT_TASKS = [("robustness/AdvGLUE", _advglue, _fresh_index),
              ("robustness/AdvInstruction", _advinstruction, _fresh_index),
              ("truthfulness/sycophancy", _sycophancy, None),
              ("robustness/ood_generalization", _oodgen, None)]


@pytest.mark.parametrize("mode", ["corrected", "trustllm"])
@pytest.mark.parametrize(("name", "make", "unit_copy"), UNIT_TASKS)
def test_unit_outcome_bootstrap_equals_rescoring_whole_units(mode, name, make, unit_copy):
    """The outcome bootstrap draws the same units as re-running the scorer on resampled items
    (with records changed so that a repeated unit stays distinct) and gives the same intervals."""
    task = get_task(name)
    assert isinstance(task.score, SplitScorer)
    rnd = random.Random(1)
    items = [it for i in range(150) for it in make(rnd, i)]
    score = task.score(items, mode)
    split = attach_intervals(task, items, score, mode, seed=5, n_boot=60)
    plain_task = replace(task, score=lambda its, m: task.score(its, m), unit_copy=unit_copy)
    plain = attach_intervals(plain_task, items, score, mode, seed=5, n_boot=60)
    assert {k: (m.value, m.ci, m.ci_method) for k, m in split.metrics.items()} == \
        {k: (m.value, m.ci, m.ci_method) for k, m in plain.metrics.items()}
    assert any(m.ci_method and m.ci_method.startswith("bootstrap") for m in split.metrics.values())


@pytest.mark.parametrize("mode", ["corrected", "trustllm"])
@pytest.mark.parametrize(("name", "make", "unit_copy"), UNIT_TASKS[:3])
def test_a_unit_tasks_bootstrap_parses_each_item_once(mode, name, make, unit_copy):
    task = get_task(name)
    assert task.unit is not None
    rnd = random.Random(2)
    items = [it for i in range(80) for it in make(rnd, i)]
    calls: list[str] = []
    base = task.score.parse_trustllm if mode == "trustllm" and task.score.parse_trustllm else task.score.parse

    def counting(it):
        calls.append(it.id)
        return base(it)

    counted = replace(task, score=replace(task.score, parse=counting, parse_trustllm=counting))
    attach_intervals(counted, items, counted.score(items, mode), mode, seed=0, n_boot=40)
    # once for the point estimate, once for the bootstrap; never per resample
    assert sorted(calls) == sorted([it.id for it in items] * 2)


def _pair_scorer(copy=None) -> SplitScorer:
    """Toy pairs (a, b) sharing `pair`; `complete` is the share of pairs seen whole, `pairs_scored`
    the complete pairs per half "a" seen (1 only when every repeat of a pair counts as a pair)."""

    def aggregate(outcomes, mode):
        pairs: dict[int, set] = {}
        for o in outcomes:
            pairs.setdefault(o.index, set()).add(o.half)
        done = sum(len(h) == 2 for h in pairs.values())
        count = sum(o.half == "a" for o in outcomes)
        return TaskScore({"complete": Metric(value=done / len(pairs), n=len(pairs), total=len(pairs),
                                             parsed=len(pairs)),
                          "pairs_scored": Metric(value=done / count, n=count, total=count, parsed=count)})

    return SplitScorer(lambda it: _Half(it.id, it.record["pair"], it.record["half"]), aggregate, copy=copy)


@dataclass(frozen=True)
class _Half:
    id: str
    index: int
    half: str


@pytest.mark.parametrize("copy", [copy_with_fresh_index, None])
def test_a_repeated_unit_is_a_unit_of_its_own_where_the_scorer_says_how(copy):
    task = Task(dimension="robustness", file="toy_pairs.json", description="toy", temperature=0.0,
                score=_pair_scorer(copy), unit=lambda r, i: str(r["pair"]))
    items = [Item(task=task.name, id=f"{p}{h}", index=2 * p + (h == "b"), record={"pair": p, "half": h},
                  response="x") for p in range(40) for h in "ab"]
    out = attach_intervals(task, items, task.score(items, "corrected"), "corrected", seed=0, n_boot=100)
    assert out.metrics["complete"].ci == (1.0, 1.0)  # resamples keep pairs whole
    if copy is not None:  # every repeat of a pair is scored as a pair of its own
        assert out.metrics["pairs_scored"].ci == (1.0, 1.0)
    else:  # without `copy` a repeated pair merges with its first copy: whole, but counted once
        assert out.metrics["pairs_scored"].ci[0] < 0.9


def test_copy_with_fresh_index_keeps_parity_and_leaves_the_original():
    o = _Half("a", 6, "a")
    c = copy_with_fresh_index(o, 2)
    assert (c.id, c.index, c.half) == ("a", 6 + 2 * COPY_INDEX_STRIDE, "a") and c.index % 2 == 0
    assert o.index == 6


def test_every_builtin_task_scores_by_parse_and_aggregate():
    from trustbench.tasks.registry import select_tasks

    tasks = select_tasks(None)
    assert len(tasks) == 24
    assert [t.name for t in tasks if not isinstance(t.score, SplitScorer)] == []
