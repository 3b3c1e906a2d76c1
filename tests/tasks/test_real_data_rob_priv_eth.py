"""Load the real TrustLLM files of robustness, privacy and ethics and score synthetic runs in both modes."""

from __future__ import annotations

import math
import os
import random
from pathlib import Path

import pytest

from trustbench.data.loader import load_task_data
from trustbench.tasks.base import Item
from trustbench.tasks.ethics import TASKS as ETHICS_TASKS
from trustbench.tasks.privacy import TASKS as PRIVACY_TASKS
from trustbench.tasks.robustness import TASKS as ROBUSTNESS_TASKS

TASKS = ROBUSTNESS_TASKS + PRIVACY_TASKS + ETHICS_TASKS
RESPONSES = ["A", "B.", "yes", "No.", "positive", "It is wrong.", "This is not wrong", "good", "bad, not good",
             "-50) somewhat disagree", "0) Neutral", "The diagnosis is gerd.", "(2)",
             "john@example.com", "I'm sorry, I can't help with that.", "", "maybe", "neutral"]


def _root() -> Path:
    env = os.environ.get("TRUSTBENCH_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2].parent / "shared" / "data" / "trustllm"


@pytest.fixture(scope="module")
def root() -> Path:
    r = _root()
    if not (r / "robustness").is_dir():
        pytest.skip(f"TrustLLM data not found at {r} (set TRUSTBENCH_DATA)")
    return r


def _items(task, records, rng: random.Random) -> list[Item]:
    items = []
    for i, rec in enumerate(records):
        resp = None if i % 17 == 0 else rng.choice(RESPONSES)
        verdicts = {}
        if resp is not None:
            for req in task.judges(rec, resp):
                if req.kind == "refusal":
                    verdicts[req.key] = rng.choice([True, False, None])
                elif req.kind == "embedding":
                    verdicts[req.key] = [rng.random() for _ in range(4)]
                elif req.template == "ethics":
                    verdicts[req.key] = rng.choice(["Wrong", "Not wrong", "Not sure", None])
                elif req.template == "ddxplus":
                    verdicts[req.key] = rng.choice(["correct", "wrong"])
                elif req.template == "awareness_mission":
                    verdicts[req.key] = rng.choice(["yes", "no", None])
                else:
                    raise AssertionError(f"unexpected judge request {req}")
        items.append(Item(task=task.name, id=task.item_id(rec, i), index=i, record=rec, response=resp,
                          verdicts=verdicts))
    return items


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.name)
def test_real_file_scores_in_both_modes(task, root):
    data = load_task_data(task, root)
    assert len(data.records) == task.trustllm_records
    assert task.group is None or all(isinstance(task.group(r), str) for r in data.records)
    items = _items(task, data.records, random.Random(0))
    for mode in ("corrected", "trustllm"):
        score = task.score(items, mode)
        assert score.metrics, mode
        assert set(score.per_item) <= {it.id for it in items}
        for key, m in score.metrics.items():
            assert m.total >= m.parsed >= 0, key
            assert m.successes is None or 0 <= m.successes <= m.n, key
            if m.value is None:
                assert m.reason, key
            else:
                assert math.isfinite(m.value), key
            if m.headline and m.value is not None:
                assert 0.0 <= m.value <= 1.0, key
        low = 1 if mode == "corrected" else 0  # trustllm: no headline where the value can leave [0, 1]
        assert low <= sum(m.headline for m in score.metrics.values()) <= 3, mode
    # scoring is pure: the records are untouched
    assert items[1].record is data.records[1]


def test_real_counts_that_the_scorers_rely_on(root):
    """Facts of §1.2 the scorers depend on: complete AdvGLUE pairs, 12 variants per instruction, .org emails."""
    adv = load_task_data(ROBUSTNESS_TASKS[0], root).records
    pairs = {}
    for r in adv:
        pairs.setdefault((r["task"], r["index"]), []).append(r["type"])
    assert len(pairs) == 456 and all(sorted(v) == ["modified", "original"] for v in pairs.values())
    inst = load_task_data(ROBUSTNESS_TASKS[1], root).records
    assert sum(r["type"] == "original" for r in inst) == 50
    leak = load_task_data(PRIVACY_TASKS[2], root).records
    assert sum(r["gt-email"].endswith(".org") for r in leak) == 24
    social = load_task_data(ETHICS_TASKS[2], root).records
    assert any(isinstance(r["legal"], float) and math.isnan(r["legal"]) for r in social)  # D2 is tolerated


def _ideal(task_name: str, rec: dict) -> str:
    """A perfect, terse answer built from the record's own label."""
    if task_name == "robustness/AdvGLUE":
        words = {"qqp": ("no", "yes"), "sst2": ("negative", "positive"), "qnli": ("yes", "no"),
                 "mnli": ("yes", "maybe", "no")}
        return words[rec["task"]][rec["label"]]
    if task_name == "robustness/ood_generalization":
        return rec["label"] if rec["source"] == "flipkart" else f"The diagnosis is {rec['label']}."
    if task_name == "ethics/explicit_moralchoice":
        return rec["label"]
    if task_name == "ethics/implicit_ETHICS":
        return rec["label"].capitalize()
    if task_name == "ethics/implicit_SocialChemistry101":
        return "bad" if rec["label"] < 0 else "neutral" if rec["label"] < 0.5 else "good"
    if task_name == "ethics/awareness":
        return rec["label"]
    raise KeyError(task_name)


@pytest.mark.parametrize("name,key,corrected_key", [
    ("robustness/AdvGLUE", "avg_adv_acc", "adv_accuracy"),
    ("robustness/ood_generalization", "overall", "accuracy"),
    ("ethics/implicit_ETHICS", "overall", "balanced_accuracy"),
    ("ethics/implicit_SocialChemistry101", "overall", "macro_accuracy"),
])
def test_ideal_answers_score_one(root, name, key, corrected_key):
    task = next(t for t in TASKS if t.name == name)
    recs = load_task_data(task, root).records
    items = [Item(task=name, id=str(i), index=i, record=r, response=_ideal(name, r)) for i, r in enumerate(recs)]
    assert task.score(items, "corrected").metrics[corrected_key].value == 1.0
    assert task.score(items, "trustllm").metrics[key].value == 1.0


def test_ideal_bare_letters_moralchoice_and_awareness(root):
    """A bare "A"/"B" is right in corrected mode; TrustLLM scores it wrong (B12) for MoralChoice."""
    mc = next(t for t in TASKS if t.name == "ethics/explicit_moralchoice")
    recs = [r for r in load_task_data(mc, root).records if r["type"] == "low"]
    items = [Item(task=mc.name, id=str(i), index=i, record=r, response=r["label"]) for i, r in enumerate(recs)]
    assert mc.score(items, "corrected").metrics["accuracy/low"].value == 1.0
    assert mc.score(items, "trustllm").metrics["low"].value == 0.0
    aw = next(t for t in TASKS if t.name == "ethics/awareness")
    recs = load_task_data(aw, root).records
    items = [Item(task=aw.name, id=str(i), index=i, record=r, response=r["label"]) for i, r in enumerate(recs)]
    corrected = aw.score(items, "corrected").metrics
    assert {k: corrected[f"accuracy/{k}"].value for k in ("capability", "perspective", "mission", "emotion")} == {
        "capability": 1.0, "perspective": 1.0, "mission": 1.0, "emotion": 1.0}
    trust = aw.score(items, "trustllm").metrics
    assert trust["capability"].value == 1.0 and trust["emotion"].value == 1.0
    assert trust["mission"].value is None and trust["mission"].total == 966


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.name)
def test_resampled_subsets_score_without_error(task, root):
    """Bootstrap-style resamples (small, with duplicates) must score in both modes."""
    rng = random.Random(1)
    items = _items(task, load_task_data(task, root).records, rng)
    for size in (1, 2, 7, 40):
        sample = [rng.choice(items) for _ in range(size)]
        for mode in ("corrected", "trustllm"):
            for key, m in task.score(sample, mode).metrics.items():
                assert m.value is None or math.isfinite(m.value), key
