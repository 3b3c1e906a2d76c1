"""Intervals for a proportion or a mean: Wilson score interval and seeded percentile bootstrap.

* `wilson_interval`: Wilson score interval for a binomial proportion (no continuity correction;
  identical to `scipy.stats.binomtest(k, n).proportion_ci(method="wilson")`).
* `bootstrap_interval`: percentile bootstrap over items (resample with replacement, take the
  alpha/2 and 1-alpha/2 quantiles). Random draws come from a seeded `numpy.random.Generator`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from statistics import NormalDist

import numpy as np

DEFAULT_CONF = 0.95


def two_sided_z(conf: float) -> float:
    """The normal quantile z with P(|Z| <= z) = conf."""
    if not 0.0 < conf < 1.0:
        raise ValueError(f"conf must be in (0, 1), got {conf}")
    return NormalDist().inv_cdf(0.5 + conf / 2.0)  # = scipy.stats.norm.ppf, without importing scipy (seconds at start-up)


def wilson_interval(k: int, n: int, conf: float = DEFAULT_CONF) -> tuple[float, float]:
    """Wilson score interval for k successes out of n (no continuity correction)."""
    if n <= 0:
        raise ValueError("wilson_interval needs n > 0")
    if not 0 <= k <= n:
        raise ValueError(f"wilson_interval needs 0 <= k <= n, got k={k}, n={n}")
    z = two_sided_z(conf)
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


def percentile_interval(reps: np.ndarray, conf: float) -> tuple[float, float]:
    """The alpha/2 and 1 - alpha/2 quantiles of resampled values."""
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
        return percentile_interval(np.asarray(reps), conf)
    vals = np.asarray(values_or_fn, dtype=float)
    if vals.size == 0:
        raise ValueError("bootstrap_interval needs at least one value")
    idx = rng.integers(0, vals.size, (n_boot, vals.size))
    sample = vals[idx]
    if stat is np.mean:
        reps = sample.mean(axis=1)
    else:
        reps = np.array([stat(row) for row in sample])
    return percentile_interval(reps, conf)
