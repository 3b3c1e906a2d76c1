"""Confidence intervals for a task's metrics (`attach_intervals`).

Wilson intervals where a metric has its counts; otherwise a seeded percentile bootstrap over the
task's items, drawing whole sampling units where the task defines them (`Task.unit`: a pair, a
group of variants). A `SplitScorer` is parsed once and each resample re-aggregates its outcomes
(the r-th repeat of a unit made a unit of its own by `SplitScorer.copy`); any other scorer is
re-run on resampled items (the repeat made distinct by `Task.unit_copy`). Both paths make the
same draws, so they give the same intervals. A judged rate also gets the Rogan-Gladen
judge-error adjustment (`trustbench.scoring.judge_error`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from trustbench.scoring.intervals import DEFAULT_CONF, percentile_interval, wilson_interval
from trustbench.scoring.items import Item, Scorable, ScoringMode, SplitScorer, TaskScore
from trustbench.scoring.judge_error import judge_adjusted_metrics

# Bootstrap resamples for item-level intervals of non-proportion metrics. Each resample
# re-aggregates (or re-runs) the task's scorer once for all its metrics; 200 keeps a 16k-item run to a few seconds
# (bench/RESULTS.md) while the Monte-Carlo error of a 95% percentile bound stays small
# next to the interval's width.
DEFAULT_N_BOOT = 200


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


def _units(task: Scorable, items: Sequence[Item]) -> list[list[int]] | None:
    """Item positions grouped by the task's sampling unit, or None when every item is its own unit."""
    if task.unit is None:
        return None
    groups: dict[str, list[int]] = {}
    for pos, it in enumerate(items):
        groups.setdefault(task.unit(it.record, it.index), []).append(pos)
    return list(groups.values()) if len(groups) < len(items) else None


def _resample_units(xs: Sequence[Any], units: list[list[int]], draw: np.ndarray,
                    copy: Callable[[Any, int], Any] | None, cache: dict[tuple[int, int], Any]) -> list[Any]:
    """A cluster resample of `xs` (parsed outcomes, or items): those of each drawn unit; the r-th
    repeat of a unit is `copy(x, r)` where there is a `copy` (so that the scorer counts it as a unit
    of its own), else the same elements again."""
    out: list[Any] = []
    seen: dict[int, int] = {}
    for u in draw.tolist():
        r = seen.get(u, 0)
        seen[u] = r + 1
        if r == 0 or copy is None:
            out.extend(xs[pos] for pos in units[u])
            continue
        for pos in units[u]:
            x = cache.get((pos, r))
            if x is None:
                x = cache[(pos, r)] = copy(xs[pos], r)
            out.append(x)
    return out


def _item_copy(task: Scorable) -> Callable[[Item, int], Item]:
    """For a scorer that is not a `SplitScorer`: the r-th repeat of an item gets id "<id>#r" and,
    where the task says how (`unit_copy`), a record that makes its unit distinct for the scorer."""
    def copy(it: Item, r: int) -> Item:
        rec = task.unit_copy(it.record, r) if task.unit_copy else it.record
        return replace(it, id=f"{it.id}#{r}", record=rec)

    return copy


def attach_intervals(
    task: Scorable,
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
                         (seeded; whole units, e.g. pairs, where the task defines `unit`), score
                         each resample once for all bootstrap metrics together (a `SplitScorer`:
                         aggregate the resampled outcomes of a single parse; otherwise re-run
                         `task.score` on the resampled items), take the percentiles of each metric.
    ci_kind "none":      no interval.

    judge_error: {verdict key: (sensitivity, specificity, n_val) | (sens, spec, n_pos, n_neg) |
    {"sensitivity", "specificity", "n_pos", "n_neg"} | {"tp", "fp", "fn", "tn"}} (n_val alone is
    taken as a balanced split; an undecided verdict on the validation set should be counted as a
    miss by whoever measures the rates). For a metric whose typed field `counts_verdict` names the
    verdict key (successes = items with verdict True, or with `complement` items with verdict
    False) `extra["ci_judge_adjusted"]` gets the Rogan-Gladen corrected rate and its
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
        units = _units(task, items)
        split = task.score if isinstance(task.score, SplitScorer) else None
        outcomes = split.outcomes(items, mode) if split is not None else []
        cache: dict[tuple[int, int], Any] = {}
        for _ in range(n_boot):
            # sorted indices: same multiset, original order (memory locality, stable grouping);
            # the same draws whichever way the resample is scored
            if units is None:
                idx = np.sort(rng.integers(0, n, n))
            else:
                idx = np.sort(rng.integers(0, len(units), len(units)))
            if split is not None:  # parsed once: aggregate the resampled outcomes
                if units is None:
                    sample = [outcomes[i] for i in idx.tolist()]
                else:
                    sample = _resample_units(outcomes, units, idx, split.copy, cache)
                res = split.aggregate(sample, mode).metrics
            else:  # fallback for a scorer that is not a SplitScorer: re-run it on resampled items
                if units is None:
                    items_sample = _resample_items(items, idx, cache)
                else:
                    items_sample = _resample_units(items, units, idx, _item_copy(task), cache)
                res = task.score(items_sample, mode).metrics
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
            lo, hi = percentile_interval(np.asarray(got), conf)
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
        metrics = judge_adjusted_metrics(metrics, items, judge_error, conf=conf, seed=seed)

    return replace(score, metrics=metrics)
