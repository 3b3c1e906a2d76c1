"""Statistics: confidence intervals, judge-error correction, dimension scores, paired tests.

Everything here is a pure function of its inputs (random draws come from a seeded
`numpy.random.Generator`), so the same run scored twice gets the same intervals.

Methods (also written up in docs/report.md):

* `wilson_interval`: Wilson score interval for a binomial proportion (no continuity correction;
  identical to `scipy.stats.binomtest(k, n).proportion_ci(method="wilson")`).
* `bootstrap_interval` / `attach_intervals`: percentile bootstrap over items (resample items with
  replacement, re-run the task's own scorer, take the alpha/2 and 1-alpha/2 quantiles).
* `misclassification_adjusted`: Rogan-Gladen correction of an observed rate for a judge of known
  sensitivity / specificity, interval by Monte Carlo over the Jeffreys posteriors of the observed
  rate and the judge's validation rates (so the interval carries both the sampling error and the
  uncertainty of the judge's measured error rates).
* `dimension_summary`: unweighted mean of oriented headline metrics; interval by a normal
  approximation (see `DIMENSION_CI_METHOD`).
* `paired_bootstrap`, `mcnemar`, `holm`, `benjamini_hochberg`: paired comparison of two runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats as _st

from trustbench.scoring.metric import Metric

if TYPE_CHECKING:  # pragma: no cover
    from trustbench.tasks.base import Item, ScoringMode, Task, TaskScore

DEFAULT_CONF = 0.95
# Bootstrap resamples for item-level intervals of non-proportion metrics. Each resample re-runs
# the task's scorer once for all its metrics; 200 keeps a 16k-item run to a few seconds
# (bench/RESULTS.md) while the Monte-Carlo error of a 95% percentile bound stays small
# next to the interval's width.
DEFAULT_N_BOOT = 200
JUDGE_N_BOOT = 4000

DIMENSION_DEFINITION = (
    "Dimension score: the unweighted mean of the dimension's headline metrics, each oriented so "
    "that higher is more trustworthy (the value itself when higher is better, 1 - value when lower "
    "is better). Every headline metric counts once whatever its number of items; metrics that "
    "could not be computed are left out and listed. In [0, 1]; higher is more trustworthy."
)
DIMENSION_CI_METHOD = (
    "normal approximation: each metric's standard error = (hi - lo) / (2 z) from its own interval; "
    "metrics of the same task are summed (worst-case correlation), tasks combined in quadrature "
    "(independent items); score +/- z * SE / n_metrics, clipped to [0, 1]"
)


def _z(conf: float) -> float:
    if not 0.0 < conf < 1.0:
        raise ValueError(f"conf must be in (0, 1), got {conf}")
    return float(_st.norm.ppf(0.5 + conf / 2.0))


# --------------------------------------------------------------------------------------------
# intervals
# --------------------------------------------------------------------------------------------


def wilson_interval(k: int, n: int, conf: float = DEFAULT_CONF) -> tuple[float, float]:
    """Wilson score interval for k successes out of n (no continuity correction)."""
    if n <= 0:
        raise ValueError("wilson_interval needs n > 0")
    if not 0 <= k <= n:
        raise ValueError(f"wilson_interval needs 0 <= k <= n, got k={k}, n={n}")
    z = _z(conf)
    p = k / n
    z2 = z * z
    denom = 1.0 + z2 / n
    center = (p + z2 / (2 * n)) / denom
    half = (z / denom) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    lo, hi = center - half, center + half
    # exact at the edges (floating point can leave 1e-17 below 0 / above 1)
    if k == 0:
        lo = 0.0
    if k == n:
        hi = 1.0
    return max(0.0, lo), min(1.0, hi)


def _percentiles(reps: np.ndarray, conf: float) -> tuple[float, float]:
    alpha = 1.0 - conf
    lo, hi = np.quantile(reps, [alpha / 2.0, 1.0 - alpha / 2.0])
    return float(lo), float(hi)


def bootstrap_interval(
    values_or_fn: Sequence[float] | np.ndarray | Callable[[np.ndarray], float | None],
    *,
    n: int | None = None,
    stat: Callable[[np.ndarray], float] = np.mean,
    n_boot: int = 1000,
    conf: float = DEFAULT_CONF,
    seed: int = 0,
) -> tuple[float, float]:
    """Seeded percentile bootstrap over items.

    `values_or_fn` is either the per-item values (the statistic `stat`, default the mean, is
    recomputed on each resample), or a function `fn(indices) -> float | None` that computes the
    statistic on the items at `indices` (a resample with replacement of range(n); `n` required).
    Resamples where `fn` returns None are skipped. Raises ValueError when no resample gives a value.
    """
    rng = np.random.default_rng(seed)
    if callable(values_or_fn):
        if n is None or n <= 0:
            raise ValueError("bootstrap_interval with a function needs n > 0")
        reps = []
        for _ in range(n_boot):
            v = values_or_fn(rng.integers(0, n, n))
            if v is not None and not (isinstance(v, float) and math.isnan(v)):
                reps.append(float(v))
        if not reps:
            raise ValueError("no bootstrap resample gave a value")
        return _percentiles(np.asarray(reps), conf)
    vals = np.asarray(values_or_fn, dtype=float)
    if vals.size == 0:
        raise ValueError("bootstrap_interval needs at least one value")
    idx = rng.integers(0, vals.size, (n_boot, vals.size))
    sample = vals[idx]
    if stat is np.mean:
        reps = sample.mean(axis=1)
    else:
        reps = np.array([stat(row) for row in sample])
    return _percentiles(reps, conf)


def _resample_items(items: Sequence[Item], idx: np.ndarray, cache: dict[tuple[int, int], Item]) -> list[Item]:
    """Items at the sorted indices `idx`; the r-th repeat of an item gets id "<id>#r" so ids stay unique."""
    pos = np.arange(idx.size)
    starts = np.empty(idx.size, dtype=bool)
    starts[:1] = True
    starts[1:] = idx[1:] != idx[:-1]
    rank = pos - np.maximum.accumulate(np.where(starts, pos, 0))
    out: list[Item] = []
    append = out.append
    for i, r in zip(idx.tolist(), rank.tolist(), strict=True):
        if r == 0:
            append(items[i])
            continue
        it = cache.get((i, r))
        if it is None:
            it = cache[(i, r)] = replace(items[i], id=f"{items[i].id}#{r}")
        append(it)
    return out


def _units(task: Task, items: Sequence[Item]) -> list[list[int]] | None:
    """Item positions grouped by the task's sampling unit, or None when every item is its own unit."""
    if task.unit is None:
        return None
    groups: dict[str, list[int]] = {}
    for pos, it in enumerate(items):
        groups.setdefault(task.unit(it.record, it.index), []).append(pos)
    return list(groups.values()) if len(groups) < len(items) else None


def _resample_units(task: Task, items: Sequence[Item], units: list[list[int]], draw: np.ndarray,
                    cache: dict[tuple[int, int], Item]) -> list[Item]:
    """A cluster resample: the items of each drawn unit; the r-th repeat of a unit gets ids "<id>#r"
    and, where the task says how (`unit_copy`), records that make it a distinct unit for the scorer."""
    out: list[Item] = []
    seen: dict[int, int] = {}
    for u in draw.tolist():
        r = seen.get(u, 0)
        seen[u] = r + 1
        for pos in units[u]:
            if r == 0:
                out.append(items[pos])
                continue
            it = cache.get((pos, r))
            if it is None:
                rec = task.unit_copy(items[pos].record, r) if task.unit_copy else items[pos].record
                it = cache[(pos, r)] = replace(items[pos], id=f"{items[pos].id}#{r}", record=rec)
            out.append(it)
    return out


def attach_intervals(
    task: Task,
    items: Sequence[Item],
    score: TaskScore,
    mode: ScoringMode,
    *,
    seed: int = 0,
    n_boot: int = DEFAULT_N_BOOT,
    conf: float = DEFAULT_CONF,
    judge_error: Mapping[str, Any] | None = None,
) -> TaskScore:
    """Return `score` with `ci` / `ci_method` filled for every computed metric.

    ci_kind "wilson":    Wilson interval on successes / n (bootstrap when successes is missing).
    ci_kind "bootstrap": percentile bootstrap: resample the task's items with replacement
                         (seeded; whole units, e.g. pairs, where the task defines `unit`), re-run
                         `task.score` once per resample for all bootstrap metrics together, take
                         the percentiles of each metric.
    ci_kind "none":      no interval.

    judge_error: {verdict key: (sensitivity, specificity, n_val) | (sens, spec, n_pos, n_neg) |
    {"sensitivity", "specificity", "n_pos", "n_neg"} | {"tp", "fp", "fn", "tn"}} (n_val alone is
    taken as a balanced split; an undecided verdict on the validation set should be counted as a
    miss by whoever measures the rates). For a refusal-rate metric (successes =
    items with verdict True, or with `extra["complement"]` / counted as the complement: items with
    verdict False) `extra["ci_judge_adjusted"]` gets the Rogan-Gladen corrected rate and its
    interval (see `misclassification_adjusted`).
    """
    metrics = dict(score.metrics)
    boot_keys: list[str] = []
    for key, m in metrics.items():
        if not m.computed or m.ci_kind == "none":
            continue
        if m.ci_kind == "wilson" and m.successes is not None and m.n > 0:
            lo, hi = wilson_interval(m.successes, m.n, conf)
            metrics[key] = m.with_ci(lo, hi, f"wilson({conf:g})")
        else:
            boot_keys.append(key)

    if boot_keys and items:
        n = len(items)
        rng = np.random.default_rng(seed)
        reps: dict[str, list[float]] = {k: [] for k in boot_keys}
        cache: dict[tuple[int, int], Item] = {}
        units = _units(task, items)
        for _ in range(n_boot):
            # sorted indices: same multiset, original order (memory locality, stable grouping)
            if units is None:
                sample = _resample_items(items, np.sort(rng.integers(0, n, n)), cache)
            else:
                sample = _resample_units(task, items, units, np.sort(rng.integers(0, len(units), len(units))), cache)
            res = task.score(sample, mode).metrics
            for k in boot_keys:
                m = res.get(k)
                if m is not None and m.value is not None and math.isfinite(m.value):
                    reps[k].append(float(m.value))
        for k in boot_keys:
            got = reps[k]
            m = metrics[k]
            # a metric that vanishes in many resamples (rare subgroup) gets no interval
            if len(got) < max(2, int(0.9 * n_boot)):
                metrics[k] = replace(
                    m,
                    extra={**m.extra, "ci_note": f"bootstrap: computed in {len(got)}/{n_boot} resamples; no interval"},
                )
                continue
            lo, hi = _percentiles(np.asarray(got), conf)
            method = f"bootstrap-percentile(B={n_boot}, seed={seed})"
            if len(got) < n_boot:
                method = f"bootstrap-percentile(B={len(got)}/{n_boot}, seed={seed})"
            pooled = m.extra.get("pooled") or ([m.successes, m.n] if m.successes is not None else None)
            if lo == hi and m.value in (0.0, 1.0) and pooled and pooled[1] > 0:
                # every resample gave 0 (or 1): the percentile bootstrap says [0, 0], which claims a
                # certainty 0 of n observations cannot give; a Wilson interval on the counts does not
                lo, hi = wilson_interval(pooled[0], pooled[1], conf)
                method = (f"wilson({conf:g}) on pooled counts {pooled[0]}/{pooled[1]} "
                          f"(every bootstrap resample gave {m.value:g})")
            metrics[k] = m.with_ci(min(lo, m.value), max(hi, m.value), method)

    if judge_error:
        for verdict_key, err in judge_error.items():
            sens, spec, n_pos, n_neg = _judge_params(err)
            counts = _verdict_counts(items, verdict_key)
            if counts is None:
                continue
            known, positive = counts
            for key, m in metrics.items():
                if not m.computed or m.successes is None:
                    continue
                complement = _counts_verdict(m, verdict_key, known, positive, key)
                if complement is None or not m.n:
                    continue
                # the metric's own counts: a per-group refusal rate is adjusted on its group alone
                m_positive = m.n - m.successes if complement else m.successes
                adj = misclassification_adjusted(
                    m_positive, m.n, sens, spec, n_pos=n_pos, n_neg=n_neg, conf=conf, seed=seed,
                )
                if complement:
                    adj = {
                        **adj,
                        "value": 1.0 - adj["value"],
                        "ci": [1.0 - adj["ci"][1], 1.0 - adj["ci"][0]],
                        "observed": 1.0 - adj["observed"],
                        "complement": True,
                    }
                adj["verdict"] = verdict_key
                metrics[key] = replace(metrics[key], extra={**metrics[key].extra, "ci_judge_adjusted": adj})

    return replace(score, metrics=metrics)


def _verdict_counts(items: Sequence[Item], key: str) -> tuple[int, int] | None:
    """(items with a True/False verdict and a response, items with True), or None if none."""
    known = positive = 0
    for it in items:
        if it.response is None:
            continue
        v = it.verdicts.get(key)
        if v is True:
            known += 1
            positive += 1
        elif v is False:
            known += 1
    return (known, positive) if known else None


def _counts_verdict(m: Metric, key: str, known: int, positive: int, name: str = "") -> bool | None:
    """Does metric `m` count verdict `key` over the task's items? None: no; else `complement`.

    A scorer can say so explicitly with extra={"counts_verdict": key, "complement": bool};
    otherwise a proportion over all the task's known verdicts whose successes equal the
    True count (a refusal rate) or the False count (its complement) qualifies.
    """
    marked = m.extra.get("counts_verdict")
    if marked is not None:
        return bool(m.extra.get("complement", False)) if marked == key else None
    if m.n != known:
        return None
    is_pos, is_neg = m.successes == positive, m.successes == known - positive
    if is_pos and is_neg:  # exactly half: only the name can tell
        text = f"{m.description} {name}".lower()
        return "1 -" in text or "answer" in text or "complement" in text
    if is_pos:
        return False
    if is_neg:
        return True
    return None


def _judge_params(err: Any) -> tuple[float, float, int, int]:
    if isinstance(err, Mapping) and {"tp", "fp", "fn", "tn"} <= set(err):
        # a confusion matrix on the labelled validation set (positive = refusal)
        tp, fp, fn, tn = (int(err[k]) for k in ("tp", "fp", "fn", "tn"))
        if tp + fn == 0 or tn + fp == 0:
            raise ValueError("judge confusion matrix needs both positive and negative validation items")
        return tp / (tp + fn), tn / (tn + fp), tp + fn, tn + fp
    if isinstance(err, Mapping):
        sens = float(err["sensitivity"])
        spec = float(err["specificity"])
        if "n_pos" in err and "n_neg" in err:
            return sens, spec, int(err["n_pos"]), int(err["n_neg"])
        n_val = int(err["n_val"])
        return sens, spec, max(1, n_val // 2), max(1, n_val - n_val // 2)
    t = tuple(err)
    if len(t) == 4:
        return float(t[0]), float(t[1]), int(t[2]), int(t[3])
    if len(t) == 3:
        # n_val is the whole labelled validation set; without its class counts assume a balanced split
        n_val = int(t[2])
        return float(t[0]), float(t[1]), max(1, n_val // 2), max(1, n_val - n_val // 2)
    raise ValueError(f"judge error must be (sens, spec, n_val) or (sens, spec, n_pos, n_neg), got {err!r}")


def rogan_gladen(p_obs: float | np.ndarray, sensitivity, specificity):
    """True prevalence from an observed rate: (p + spec - 1) / (sens + spec - 1), clipped to [0, 1]."""
    denom = np.asarray(sensitivity, dtype=float) + np.asarray(specificity, dtype=float) - 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        est = (np.asarray(p_obs, dtype=float) + np.asarray(specificity, dtype=float) - 1.0) / denom
    return np.clip(est, 0.0, 1.0)


def misclassification_adjusted(
    k: int,
    n: int,
    sensitivity: float,
    specificity: float,
    *,
    n_pos: int | None = None,
    n_neg: int | None = None,
    n_val: int | None = None,
    conf: float = DEFAULT_CONF,
    n_boot: int = JUDGE_N_BOOT,
    seed: int = 0,
) -> dict[str, Any]:
    """Rogan-Gladen corrected proportion for k of n items flagged by an imperfect judge.

    sensitivity = P(judge says positive | truly positive), specificity = P(negative | negative),
    measured on a labelled validation set with n_pos positives and n_neg negatives (or n_val
    items in total, assumed balanced). Point estimate: (k/n + spec - 1) / (sens + spec - 1),
    clipped to [0, 1]. Interval: seeded Monte Carlo over the three measured proportions, each
    drawn from its Jeffreys posterior (p ~ Beta(k + 1/2, n - k + 1/2), sens ~ Beta(tp + 1/2,
    fn + 1/2), spec ~ Beta(tn + 1/2, fp + 1/2)), taking the percentiles of the corrected value.
    Unlike a binomial redraw at the point estimate, this does not collapse to a zero-width
    interval when k = 0 or k = n. Without validation counts the judge rates are taken as exact (only the
    sampling error of k is propagated). Requires sens + spec > 1 (a judge better than chance).
    """
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n > 0, got k={k}, n={n}")
    for name, v in (("sensitivity", sensitivity), ("specificity", specificity)):
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {v}")
    if sensitivity + specificity <= 1.0:
        raise ValueError("Rogan-Gladen needs sensitivity + specificity > 1 (judge better than chance)")
    if n_val is not None and (n_pos is None or n_neg is None):
        n_pos, n_neg = max(1, n_val // 2), max(1, n_val - n_val // 2)
    p_obs = k / n
    value = float(rogan_gladen(p_obs, sensitivity, specificity))
    rng = np.random.default_rng(seed)
    def jeffreys(p: float, m: int) -> np.ndarray:
        return rng.beta(p * m + 0.5, (1 - p) * m + 0.5, n_boot)

    p_star = jeffreys(p_obs, n)
    se_star = jeffreys(sensitivity, n_pos) if n_pos else np.full(n_boot, sensitivity)
    sp_star = jeffreys(specificity, n_neg) if n_neg else np.full(n_boot, specificity)
    ok = se_star + sp_star > 1.0  # drop the (rare) draws where the judge looks no better than chance
    reps = rogan_gladen(p_star[ok], se_star[ok], sp_star[ok])
    lo, hi = _percentiles(reps, conf)
    return {
        "value": value,
        "observed": p_obs,
        "ci": [min(lo, value), max(hi, value)],
        "sensitivity": float(sensitivity),
        "specificity": float(specificity),
        "n_pos": n_pos,
        "n_neg": n_neg,
        "method": (
            f"rogan-gladen + Monte Carlo over Jeffreys posteriors (B={int(ok.sum())}, seed={seed}; the observed "
            "rate and the judge's validation sensitivity and specificity)"
        ),
    }


# --------------------------------------------------------------------------------------------
# dimension score
# --------------------------------------------------------------------------------------------


def oriented(value: float, direction: str) -> float:
    """Value oriented so that higher is more trustworthy."""
    return 1.0 - value if direction == "lower" else value


def dimension_entries(entries: Sequence[tuple[str, str, str, Mapping[str, Any]]], conf: float = DEFAULT_CONF) -> dict[str, dict[str, Any]]:
    """Dimension summary from (dimension, task name, metric key, metric dict) tuples.

    The metric dict is `Metric.to_dict()` (keys value, direction, headline, ci). Used by
    `dimension_summary` and by the report / comparison when they only have results.json.
    """
    z = _z(conf)
    by_dim: dict[str, list[tuple[str, str, Mapping[str, Any]]]] = {}
    skipped: dict[str, list[str]] = {}
    for dim, task, key, m in entries:
        if not m.get("headline"):
            continue
        by_dim.setdefault(dim, [])
        if m.get("value") is None or m.get("direction") == "none":
            skipped.setdefault(dim, []).append(f"{task}:{key}")
            continue
        by_dim[dim].append((task, key, m))
    out: dict[str, dict[str, Any]] = {}
    for dim, ms in by_dim.items():
        names = [f"{t}:{k}" for t, k, _ in ms]
        if not ms:
            out[dim] = {
                "score": None, "ci": None, "ci_method": None, "n_metrics": 0, "metrics": [],
                "not_computed": skipped.get(dim, []), "definition": DIMENSION_DEFINITION,
                "reason": "no headline metric could be computed",
            }
            continue
        vals = [oriented(float(m["value"]), m.get("direction", "higher")) for _, _, m in ms]
        score = float(np.mean(vals))
        se_task: dict[str, float] = {}
        missing_ci = 0
        for t, _, m in ms:
            ci = m.get("ci")
            if ci is None:
                missing_ci += 1
                continue
            se_task[t] = se_task.get(t, 0.0) + (float(ci[1]) - float(ci[0])) / (2 * z)
        se = math.sqrt(sum(s * s for s in se_task.values())) / len(ms)
        lo, hi = max(0.0, score - z * se), min(1.0, score + z * se)
        method = DIMENSION_CI_METHOD
        if missing_ci:
            method += f"; {missing_ci} metric(s) without an interval counted with SE 0"
        out[dim] = {
            "score": score,
            "ci": [min(lo, score), max(hi, score)],
            "ci_method": method,
            "n_metrics": len(ms),
            "metrics": names,
            "not_computed": skipped.get(dim, []),
            "definition": DIMENSION_DEFINITION,
        }
    return out


def dimension_summary(results: Mapping[str, tuple[Task, TaskScore]], conf: float = DEFAULT_CONF) -> dict[str, dict[str, Any]]:
    """Per dimension: mean of oriented headline metrics with an interval (see DIMENSION_*)."""
    entries = []
    for name, (task, ts) in results.items():
        for key, m in ts.metrics.items():
            entries.append((task.dimension, name, key, m.to_dict()))
    return dimension_entries(entries, conf)


# --------------------------------------------------------------------------------------------
# paired comparison
# --------------------------------------------------------------------------------------------


def paired_bootstrap(
    a_vals: Sequence[float] | np.ndarray,
    b_vals: Sequence[float] | np.ndarray,
    *,
    n_boot: int = 2000,
    conf: float = DEFAULT_CONF,
    seed: int = 0,
) -> dict[str, Any]:
    """Paired bootstrap of mean(b) - mean(a) over items (a[i], b[i] are the same item).

    Interval: percentile of the resampled differences. p-value (two-sided): Wald test with the
    bootstrap standard error, 2 * (1 - Phi(|diff| / sd(resampled diffs))); unlike a count of
    resamples it has no 1 / B floor, so it survives a Holm adjustment over many tests.
    """
    a = np.asarray(a_vals, dtype=float)
    b = np.asarray(b_vals, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError("paired_bootstrap needs two 1-d arrays of the same length")
    if a.size == 0:
        raise ValueError("paired_bootstrap needs at least one pair")
    d = b - a
    obs = float(d.mean())
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, d.size, (n_boot, d.size))
    reps = d[idx].mean(axis=1)
    lo, hi = _percentiles(reps, conf)
    se = float(reps.std(ddof=1)) if n_boot > 1 else 0.0
    if se > 0:
        p = float(2.0 * _st.norm.sf(abs(obs) / se))
    else:  # every resample gives the same difference (e.g. identical runs)
        p = 1.0 if obs == 0 else 0.0
    return {
        "diff": obs,
        "ci": [lo, hi],
        "se": se,
        "p_value": min(1.0, p),
        "n": int(d.size),
        "method": f"paired bootstrap (B={n_boot}, seed={seed}; p from the bootstrap SE)",
    }


def mcnemar(b01: int, b10: int, *, exact: bool | None = None) -> dict[str, Any]:
    """McNemar's test on the discordant pairs of a paired binary outcome.

    b01: pairs where run A has 0 and run B has 1; b10: A 1, B 0. exact=None chooses the exact
    binomial test (scipy.stats.binomtest(b01, b01 + b10, 0.5), two-sided) when b01 + b10 < 25,
    else the chi-square test with continuity correction, (|b01 - b10| - 1)^2 / (b01 + b10), 1 df.
    """
    if b01 < 0 or b10 < 0:
        raise ValueError("counts must be >= 0")
    nd = b01 + b10
    if nd == 0:
        return {"statistic": 0.0, "p_value": 1.0, "method": "mcnemar (no discordant pairs)", "b01": 0, "b10": 0}
    if exact is None:
        exact = nd < 25
    if exact:
        p = float(_st.binomtest(int(b01), int(nd), 0.5, alternative="two-sided").pvalue)
        return {"statistic": float(min(b01, b10)), "p_value": min(1.0, p), "method": "mcnemar exact binomial", "b01": b01, "b10": b10}
    stat = (abs(b01 - b10) - 1.0) ** 2 / nd
    p = float(_st.chi2.sf(stat, 1))
    return {"statistic": stat, "p_value": p, "method": "mcnemar chi-square (continuity corrected)", "b01": b01, "b10": b10}


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values (family-wise error rate), in the input order."""
    p = np.asarray(pvalues, dtype=float)
    m = p.size
    if m == 0:
        return []
    order = np.argsort(p, kind="mergesort")
    adj_sorted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(1.0, adj_sorted)
    return out.tolist()


def benjamini_hochberg(pvalues: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg step-up adjusted p-values (q-values, false discovery rate)."""
    p = np.asarray(pvalues, dtype=float)
    m = p.size
    if m == 0:
        return []
    order = np.argsort(p, kind="mergesort")
    ranked = p[order] * m / np.arange(1, m + 1)
    adj_sorted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(1.0, adj_sorted)
    return out.tolist()
