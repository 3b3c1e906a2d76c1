"""Dimension scores: the unweighted mean of a dimension's oriented headline metrics, with an
interval by a normal approximation (see `DIMENSION_CI_METHOD`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from trustbench.scoring.intervals import DEFAULT_CONF, two_sided_z
from trustbench.scoring.items import Scorable, TaskScore

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


def oriented(value: float, direction: str) -> float:
    """Value oriented so that higher is more trustworthy."""
    return 1.0 - value if direction == "lower" else value


def dimension_entries(entries: Sequence[tuple[str, str, str, Mapping[str, Any]]], conf: float = DEFAULT_CONF) -> dict[str, dict[str, Any]]:
    """Dimension summary from (dimension, task name, metric key, metric dict) tuples.

    The metric dict is `Metric.to_dict()` (keys value, direction, headline, ci). Used by
    `dimension_summary` and by the report / comparison when they only have results.json.
    """
    z = two_sided_z(conf)
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


def dimension_summary(results: Mapping[str, tuple[Scorable, TaskScore]], conf: float = DEFAULT_CONF) -> dict[str, dict[str, Any]]:
    """Per dimension: mean of oriented headline metrics with an interval (see DIMENSION_*)."""
    entries = []
    for name, (task, ts) in results.items():
        for key, m in ts.metrics.items():
            entries.append((task.dimension, name, key, m.to_dict()))
    return dimension_entries(entries, conf)
