"""trustbench.scoring statistics (intervals, judge error, summary, paired tests) vs scipy and by hand."""

from __future__ import annotations

import math
from dataclasses import replace
import random

import numpy as np
import pytest
from scipy import stats as st

from trustbench.scoring.metric import Metric, mean_metric, proportion
from trustbench.scoring.intervals import bootstrap_interval, wilson_interval
from trustbench.scoring.judge_error import misclassification_adjusted, rogan_gladen
from trustbench.scoring.metric_intervals import attach_intervals
from trustbench.scoring.paired import benjamini_hochberg, holm, mcnemar, paired_bootstrap
from trustbench.scoring.summary import DIMENSION_DEFINITION, dimension_summary
from trustbench.tasks.base import Item, Task, TaskScore
from trustbench.tasks.safety import TASKS as SAFETY

JAILBREAK, MISUSE, EXAGGERATED = SAFETY


def _wilson_by_hand(k: int, n: int, z: float) -> tuple[float, float]:
    # statsmodels proportion_confint(method="wilson"), written out
    p = k / n
    denom = 1 + z**2 / n
    center = (p + z**2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return center - half, center + half


@pytest.mark.parametrize("k,n", [(7, 20), (1, 10), (50, 100), (999, 1000), (3, 4)])
def test_wilson_matches_hand_formula_and_scipy(k, n):
    lo, hi = wilson_interval(k, n)
    hlo, hhi = _wilson_by_hand(k, n, 1.959963984540054)
    assert lo == pytest.approx(hlo, abs=1e-12) and hi == pytest.approx(hhi, abs=1e-12)
    ci = st.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert (lo, hi) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_wilson_known_value_and_edges():
    # 7/20: statsmodels gives (0.18119, 0.56715)
    assert wilson_interval(7, 20) == pytest.approx((0.181192, 0.567146), abs=1e-6)
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == 1.0
    lo90, hi90 = wilson_interval(7, 20, conf=0.90)
    lo95, hi95 = wilson_interval(7, 20)
    assert lo95 < lo90 < hi90 < hi95
    with pytest.raises(ValueError):
        wilson_interval(3, 0)
    with pytest.raises(ValueError):
        wilson_interval(5, 4)


def test_bootstrap_interval_reproducible_and_sane():
    rng = np.random.default_rng(1)
    x = rng.normal(0.5, 0.2, 400)
    a = bootstrap_interval(x, n_boot=2000, seed=3)
    b = bootstrap_interval(x, n_boot=2000, seed=3)
    c = bootstrap_interval(x, n_boot=2000, seed=4)
    assert a == b and a != c
    se = x.std(ddof=1) / math.sqrt(x.size)
    assert a[0] == pytest.approx(x.mean() - 1.96 * se, abs=0.2 * se)
    assert a[1] == pytest.approx(x.mean() + 1.96 * se, abs=0.2 * se)
    # function form: statistic of the items at the resampled indices
    f = bootstrap_interval(lambda idx: float(np.median(x[idx])), n=x.size, n_boot=300, seed=0)
    assert f[0] < np.median(x) < f[1]
    with pytest.raises(ValueError):
        bootstrap_interval([], n_boot=10)


def _safety_items(task: Task, n: int, p_refuse: float, seed: int = 0) -> list[Item]:
    rng = random.Random(seed)
    items = []
    for i in range(n):
        refused = rng.random() < p_refuse
        v: dict = {"refusal": refused if rng.random() > 0.05 else None}
        if not refused:
            v["toxicity"] = round(rng.random() * 0.4, 3)
        response = None if i % 50 == 49 else f"response {i}"
        items.append(Item(task=task.name, id=f"{task.stem}-{i}", index=i,
                          record={"prompt": "p", "label": [rng.choice(["a", "b", "c"])]},
                          response=response, verdicts=v if response else {}))
    return items


def test_attach_intervals_wilson_bootstrap_and_none():
    items = _safety_items(JAILBREAK, 300, 0.7)
    score = JAILBREAK.score(items, "corrected")
    out = attach_intervals(JAILBREAK, items, score, "corrected", seed=3, n_boot=60)
    rta = out.metrics["rta"]
    assert rta.ci == pytest.approx(wilson_interval(rta.successes, rta.n))
    assert rta.ci_method == "wilson(0.95)"
    tox = out.metrics["toxicity/average_toxicity"]
    assert tox.ci_method == "bootstrap-percentile(B=60, seed=3)"
    assert tox.ci[0] <= tox.value <= tox.ci[1]
    again = attach_intervals(JAILBREAK, items, score, "corrected", seed=3, n_boot=60)
    assert again.metrics["toxicity/average_toxicity"].ci == tox.ci
    other = attach_intervals(JAILBREAK, items, score, "corrected", seed=4, n_boot=60)
    assert other.metrics["toxicity/average_toxicity"].ci != tox.ci
    # the original score is untouched
    assert score.metrics["rta"].ci is None


def test_attach_intervals_skips_uncomputed_and_ci_none():
    m_none = Metric(value=0.03, n=10, total=10, parsed=10, direction="none", ci_kind="none")

    def scorer(items, mode):
        return TaskScore(metrics={"p": m_none, "empty": mean_metric([])})

    task = Task(dimension="fairness", file="x.json", description="", temperature=0.0, score=scorer)
    items = [Item(task="fairness/x", id=str(i), index=i, record={"prompt": ""}, response="r") for i in range(5)]
    out = attach_intervals(task, items, scorer(items, "corrected"), "corrected")
    assert out.metrics["p"].ci is None and out.metrics["empty"].ci is None


def test_bootstrap_resamples_have_unique_ids():
    seen_dupes = []

    def scorer(items, mode):
        ids = [it.id for it in items]
        seen_dupes.append(len(ids) - len(set(ids)))
        return TaskScore(metrics={"m": mean_metric([float(it.record["x"]) for it in items])},
                         per_item={it.id: {"x": it.record["x"]} for it in items})

    task = Task(dimension="ethics", file="u.json", description="", temperature=0.0, score=scorer)
    items = [Item(task="ethics/u", id=f"i{i}", index=i, record={"prompt": "", "x": i % 7}, response="r") for i in range(200)]
    out = attach_intervals(task, items, scorer(items, "corrected"), "corrected", n_boot=30)
    assert out.metrics["m"].ci is not None
    assert set(seen_dupes) == {0}


def test_rogan_gladen_by_hand():
    # (0.30 + 0.95 - 1) / (0.90 + 0.95 - 1) = 0.25 / 0.85
    assert float(rogan_gladen(0.30, 0.90, 0.95)) == pytest.approx(0.25 / 0.85)
    assert float(rogan_gladen(0.01, 0.90, 0.95)) == 0.0  # clipped
    r = misclassification_adjusted(30, 100, 0.90, 0.95, n_pos=200, n_neg=200)
    assert r["value"] == pytest.approx(0.25 / 0.85)
    assert r["ci"][0] < r["value"] < r["ci"][1]
    assert r["observed"] == 0.30
    small = misclassification_adjusted(30, 100, 0.90, 0.95, n_val=40)
    exact = misclassification_adjusted(30, 100, 0.90, 0.95)
    width = lambda x: x["ci"][1] - x["ci"][0]  # noqa: E731
    assert width(small) > width(r) > width(exact) * 0.99
    # perfect judge: corrected == observed, interval ~ the binomial sampling interval
    perfect = misclassification_adjusted(30, 100, 1.0, 1.0)
    assert perfect["value"] == pytest.approx(0.30)
    assert perfect["ci"] == pytest.approx(list(wilson_interval(30, 100)), abs=0.03)
    assert misclassification_adjusted(30, 100, 0.9, 0.95, seed=1) == misclassification_adjusted(30, 100, 0.9, 0.95, seed=1)
    with pytest.raises(ValueError):
        misclassification_adjusted(30, 100, 0.5, 0.5)


def test_judge_adjustment_of_a_group_rate_uses_that_group_only():
    err = {"refusal": {"tp": 184, "fn": 16, "fp": 6, "tn": 194}}
    items = _safety_items(JAILBREAK, 600, 0.5, seed=4)
    for i, it in enumerate(items):  # attack "a" refuses far more often than "b" and "c"
        if it.record["label"] == ["a"] and it.verdicts.get("refusal") is False and i % 3:
            it.verdicts["refusal"] = True
    out = attach_intervals(JAILBREAK, items, JAILBREAK.score(items, "corrected"), "corrected", judge_error=err)
    groups = {k: m for k, m in out.metrics.items() if k.startswith("rta/")}
    assert set(groups) == {"rta/a", "rta/b", "rta/c"}
    values = set()
    for m in groups.values():
        adj = m.extra["ci_judge_adjusted"]
        assert adj["observed"] == pytest.approx(m.value)  # the group's own rate, not the task's
        assert adj["value"] == pytest.approx(float(rogan_gladen(m.value, 0.92, 0.97)))
        values.add(round(adj["value"], 6))
    assert len(values) == 3 and groups["rta/a"].value > out.metrics["rta"].value


def test_attach_intervals_judge_adjusted_rta_and_complement():
    err = {"refusal": (0.92, 0.97, 400)}
    items = _safety_items(MISUSE, 400, 0.8, seed=2)
    out = attach_intervals(MISUSE, items, MISUSE.score(items, "corrected"), "corrected", judge_error=err)
    rta = out.metrics["rta"]
    adj = rta.extra["ci_judge_adjusted"]
    assert adj["value"] == pytest.approx(float(rogan_gladen(rta.value, 0.92, 0.97)))
    assert adj["n_pos"] == 200 and adj["n_neg"] == 200 and adj["verdict"] == "refusal"

    ex_items = _safety_items(EXAGGERATED, 300, 0.2, seed=5)
    ex = attach_intervals(EXAGGERATED, ex_items, EXAGGERATED.score(ex_items, "corrected"), "corrected",
                          judge_error={"refusal": {"sensitivity": 0.92, "specificity": 0.97, "n_pos": 150, "n_neg": 250}})
    ans, over = ex.metrics["answer_rate"], ex.metrics["rta"]
    assert over.extra["ci_judge_adjusted"]["value"] == pytest.approx(float(rogan_gladen(over.value, 0.92, 0.97)))
    a = ans.extra["ci_judge_adjusted"]
    assert a["complement"] is True
    assert a["value"] == pytest.approx(1 - over.extra["ci_judge_adjusted"]["value"])
    assert a["ci"][0] <= a["value"] <= a["ci"][1]
    # a confusion matrix gives the same rates and class counts
    cm = attach_intervals(MISUSE, items, MISUSE.score(items, "corrected"), "corrected",
                          judge_error={"refusal": {"tp": 184, "fn": 16, "fp": 6, "tn": 194}})
    c = cm.metrics["rta"].extra["ci_judge_adjusted"]
    assert (c["sensitivity"], c["specificity"], c["n_pos"], c["n_neg"]) == (0.92, 0.97, 200, 200)
    assert c["value"] == pytest.approx(adj["value"])
    # metrics that do not count refusals get no adjustment
    jb_items = _safety_items(JAILBREAK, 200, 0.7)
    jb = attach_intervals(JAILBREAK, jb_items, JAILBREAK.score(jb_items, "corrected"), "corrected", n_boot=20, judge_error=err)
    assert "ci_judge_adjusted" in jb.metrics["rta"].extra
    assert "ci_judge_adjusted" not in jb.metrics["toxicity/average_toxicity"].extra


def _ts(**metrics: Metric) -> TaskScore:
    return TaskScore(metrics=dict(metrics))


def test_dimension_summary_orientation_and_interval():
    t1 = Task(dimension="privacy", file="a.json", description="", temperature=0, score=lambda i, m: _ts())
    t2 = Task(dimension="privacy", file="b.json", description="", temperature=0, score=lambda i, m: _ts())
    m1 = proportion(80, 100, headline=True).with_ci(0.70, 0.90, "x")
    m2 = proportion(30, 100, headline=True, direction="lower").with_ci(0.20, 0.40, "x")
    nc = proportion(0, 0, headline=True)  # not computed
    side = proportion(1, 2)  # not headline
    out = dimension_summary({"privacy/a": (t1, _ts(acc=m1, side=side)), "privacy/b": (t2, _ts(leak=m2, none=nc))})
    d = out["privacy"]
    assert d["score"] == pytest.approx((0.8 + (1 - 0.3)) / 2)
    assert d["metrics"] == ["privacy/a:acc", "privacy/b:leak"]
    assert d["not_computed"] == ["privacy/b:none"]
    assert d["n_metrics"] == 2 and d["definition"] == DIMENSION_DEFINITION
    z = 1.959963984540054
    se = math.sqrt((0.2 / (2 * z)) ** 2 * 2) / 2
    assert d["ci"] == pytest.approx([d["score"] - z * se, d["score"] + z * se])


def test_dimension_summary_same_task_metrics_add_se():
    t = Task(dimension="ethics", file="a.json", description="", temperature=0, score=lambda i, m: _ts())
    m1 = proportion(50, 100, headline=True).with_ci(0.4, 0.6, "x")
    m2 = proportion(60, 100, headline=True).with_ci(0.5, 0.7, "x")
    d = dimension_summary({"ethics/a": (t, _ts(a=m1, b=m2))})["ethics"]
    z = 1.959963984540054
    se = (0.2 / (2 * z) * 2) / 2  # perfectly correlated within a task
    assert d["ci"] == pytest.approx([0.55 - z * se, 0.55 + z * se])


def test_paired_bootstrap():
    rng = np.random.default_rng(0)
    a = rng.normal(0.5, 0.1, 300)
    b = a + 0.05 + rng.normal(0, 0.02, 300)
    r1 = paired_bootstrap(a, b, seed=1)
    assert r1 == paired_bootstrap(a, b, seed=1)
    assert r1["diff"] == pytest.approx(float((b - a).mean()))
    assert r1["ci"][0] < r1["diff"] < r1["ci"][1]
    assert r1["p_value"] < 1e-10 and r1["n"] == 300
    same = paired_bootstrap(a, a)
    assert same["diff"] == 0 and same["p_value"] == 1.0
    noise = paired_bootstrap(a, a + rng.normal(0, 0.05, 300), seed=2)
    assert noise["p_value"] > 0.01
    with pytest.raises(ValueError):
        paired_bootstrap([1, 2], [1])


@pytest.mark.parametrize("b01,b10", [(3, 9), (0, 5), (10, 10), (1, 12)])
def test_mcnemar_exact_matches_binomtest(b01, b10):
    r = mcnemar(b01, b10)
    assert r["method"] == "mcnemar exact binomial"
    assert r["p_value"] == pytest.approx(st.binomtest(b01, b01 + b10, 0.5).pvalue)


def test_mcnemar_chi_square_large_and_degenerate():
    r = mcnemar(40, 60)
    assert r["statistic"] == pytest.approx((abs(40 - 60) - 1) ** 2 / 100)
    assert r["p_value"] == pytest.approx(st.chi2.sf(3.61, 1))
    assert mcnemar(40, 60, exact=True)["p_value"] == pytest.approx(st.binomtest(40, 100, 0.5).pvalue)
    assert mcnemar(0, 0)["p_value"] == 1.0
    # 3 vs 9: sum_{k<=3} C(12,k) / 2^12 * 2 = 2 * 299 / 4096
    assert mcnemar(3, 9)["p_value"] == pytest.approx(2 * 299 / 4096)


def test_holm_and_bh_by_hand():
    p = [0.01, 0.04, 0.03, 0.005]
    # Holm: sorted 0.005,0.01,0.03,0.04 x 4,3,2,1 = 0.02,0.03,0.06,0.04 -> running max 0.02,0.03,0.06,0.06
    assert holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # BH: sorted x m/rank = 0.02,0.02,0.04,0.04 -> running min from the top: unchanged
    assert benjamini_hochberg(p) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([]) == [] and benjamini_hochberg([]) == []


def test_bh_matches_scipy_false_discovery_control():
    rng = np.random.default_rng(5)
    p = np.concatenate([rng.uniform(0, 0.01, 10), rng.uniform(0, 1, 40)])
    assert benjamini_hochberg(p) == pytest.approx(st.false_discovery_control(p, method="bh").tolist())
    h = np.asarray(holm(p))
    assert (h >= p).all() and (h <= 1).all()


def test_a_rate_of_zero_gets_a_wilson_interval_not_a_zero_width_bootstrap():
    """Privacy leakage TD is a mean of per-setting proportions (bootstrap). With no leak at all,
    every resample gives 0; the interval must still say how large a leak rate 0/n allows."""
    from trustbench.tasks.privacy import TASKS as PRIVACY

    leak = next(t for t in PRIVACY if t.stem == "privacy_leakage")
    items = []
    for i in range(96):
        shot, typ = ("zero-shot", "five-shot")[i % 2], "ABCD"[(i // 2) % 4]
        rec = {"prompt": "p", "gt-email": f"user{i}@example.com", "shotType": shot, "type": typ}
        items.append(Item(task=leak.name, id=f"l{i}", index=i, record=rec, response="I can't share that."))
    out = attach_intervals(leak, items, leak.score(items, "corrected"), "corrected", seed=1, n_boot=50)
    td = out.metrics["td"]
    assert td.value == 0.0 and td.ci_kind == "bootstrap"
    assert td.ci == pytest.approx(wilson_interval(0, 96)) and td.ci[1] > 0.03
    assert "pooled counts 0/96" in td.ci_method
    # a rate strictly inside (0, 1) keeps its percentile-bootstrap interval
    items[0] = Item(task=leak.name, id="l0", index=0, record=items[0].record, response="user0@example.com")
    out = attach_intervals(leak, items, leak.score(items, "corrected"), "corrected", seed=1, n_boot=50)
    assert out.metrics["td"].value > 0 and out.metrics["td"].ci_method.startswith("bootstrap-percentile")


def _pair_task(unit_copy=None) -> Task:
    """A toy task of (a, b) pairs sharing `pair` whose scorer is not a SplitScorer (the bootstrap
    re-runs it on resampled items); its one metric is the share of pairs seen complete."""

    def score(items, mode):
        pairs: dict[int, set] = {}
        for it in items:
            pairs.setdefault(it.record["pair"], set()).add(it.record["half"])
        done = sum(len(h) == 2 for h in pairs.values())
        count = sum(1 for it in items if it.record["half"] == "a")  # copies count when they are distinct
        return TaskScore(metrics={"complete": Metric(value=done / len(pairs), n=len(pairs), total=len(pairs),
                                                     parsed=len(pairs)),
                                  "pairs_scored": Metric(value=float(done) / count, n=count, total=count,
                                                         parsed=count)})

    return Task(dimension="robustness", file="toy_pairs.json", description="toy", temperature=0.0, score=score,
                unit=lambda r, i: str(r["pair"]), unit_copy=unit_copy)


def _pair_items(task: Task, n_pairs: int) -> list[Item]:
    return [Item(task=task.name, id=f"{p}{h}", index=2 * p + (h == "b"), record={"pair": p, "half": h}, response="x")
            for p in range(n_pairs) for h in "ab"]


def test_the_item_bootstrap_of_a_plain_scorer_resamples_whole_units():
    task = _pair_task(unit_copy=lambda r, k: {**r, "pair": r["pair"] + 1000 * k})
    items = _pair_items(task, 40)
    out = attach_intervals(task, items, task.score(items, "corrected"), "corrected", seed=0, n_boot=100)
    # every resample keeps pairs whole, and each repeat of a pair is scored as a pair of its own
    assert out.metrics["complete"].ci == (1.0, 1.0)
    assert out.metrics["pairs_scored"].ci == (1.0, 1.0)
    # without unit_copy a repeated pair merges with its first copy: whole, but counted once
    plain = _pair_task()
    out = attach_intervals(plain, _pair_items(plain, 40), plain.score(_pair_items(plain, 40), "corrected"),
                           "corrected", seed=0, n_boot=100)
    assert out.metrics["complete"].ci == (1.0, 1.0) and out.metrics["pairs_scored"].ci[0] < 0.9


def test_advglue_bootstrap_keeps_its_original_rewrite_pairs():
    from trustbench.tasks.robustness import TASKS as ROBUSTNESS

    adv = next(t for t in ROBUSTNESS if t.stem == "AdvGLUE")
    rng = random.Random(3)
    items = []
    for i in range(60):
        for typ in ("original", "modified"):
            rec = {"prompt": "p", "task": "sst2", "index": i, "type": typ, "label": 1}
            reply = "positive" if (typ == "original" or rng.random() < 0.5) else "negative"
            items.append(Item(task=adv.name, id=f"{i}{typ}", index=len(items), record=rec, response=reply))
    sizes = []
    real = adv.score.aggregate

    def spy(outcomes, mode):
        sizes.append(real(outcomes, mode).metrics["asr/sst2"].n)
        return real(outcomes, mode)

    spied = replace(adv, score=replace(adv.score, aggregate=spy))
    attach_intervals(spied, items, adv.score(items, "corrected"), "corrected", seed=0, n_boot=50)
    # every resample has 60 complete pairs (a repeated pair counted again), all originals correct
    assert len(sizes) == 50 and set(sizes) == {60}
