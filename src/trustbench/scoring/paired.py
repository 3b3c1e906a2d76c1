"""Paired comparison of two runs on the same items: paired bootstrap, McNemar's test, and
Holm / Benjamini-Hochberg adjustment over many tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from trustbench.scoring.intervals import DEFAULT_CONF, percentile_interval


def _scipy_stats() -> Any:
    """scipy.stats, imported on first use (about 2 s on a loaded 2-core machine): only comparisons need it."""
    from scipy import stats

    return stats


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
    lo, hi = percentile_interval(reps, conf)
    se = float(reps.std(ddof=1)) if n_boot > 1 else 0.0
    if se > 0:
        p = float(2.0 * _scipy_stats().norm.sf(abs(obs) / se))
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
        p = float(_scipy_stats().binomtest(int(b01), int(nd), 0.5, alternative="two-sided").pvalue)
        return {"statistic": float(min(b01, b10)), "p_value": min(1.0, p), "method": "mcnemar exact binomial", "b01": b01, "b10": b10}
    stat = (abs(b01 - b10) - 1.0) ** 2 / nd
    p = float(_scipy_stats().chi2.sf(stat, 1))
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
