"""Aggregators every task shares, each with one documented rule for missing values.

- `rate`: k / n over the items in scope. Unparsed items stay in the denominator (misses) unless
  the caller passes a smaller `n` (TrustLLM's rules that leave them out). Not computed, never 0,
  when nothing could be scored: no items, every generation failed, or (``unparsed="not_computed"``)
  no item parsed at all.
- `mean_of`: the unweighted mean of sub-metrics. `missing` says what a sub-metric that is not
  computed does: "skip" (mean over the parts present), "fail" (the mean is not computed either,
  where TrustLLM would crash) or "zero" (it counts as 0, TrustLLM's `x if n else 0`, B15).
- `cosine`, `macro_f1`: the similarity and F1 used by several tasks.
- `grouped`: outcomes by a key (a source, an attack type), for per-group metrics.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal, TypeVar

from trustbench.scoring.metric import Direction, Metric, not_computed, proportion

NEEDS_JUDGE = "needs an LLM judge (--judge SPEC)"
ALL_FAILED = "no responses (every generation failed)"

Missing = Literal["skip", "fail", "zero"]

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


def rate(
    k: int,
    total: int,
    parsed: int,
    *,
    n: int | None = None,
    failed: int = 0,
    judge_missing: int = 0,
    unparsed: Literal["miss", "not_computed"] = "miss",
    direction: Direction = "higher",
    headline: bool = False,
    description: str = "",
    ndigits: int | None = None,
) -> Metric:
    """k / n with n = `total` (every item in scope) unless given.

    failed: items whose generation failed; all of them failed -> not computed (a 0 would blame
    the model for an infrastructure failure).
    unparsed: "miss" - unparsed items are wrong answers; "not_computed" - when no item parsed at
    all the metric is not computed (reason: the missing judge when `judge_missing`).
    judge_missing: items the rules left to an LLM judge with no verdict; reported in `extra`.
    """
    kw: dict[str, Any] = {"direction": direction, "headline": headline, "description": description}
    if total and failed >= total:
        return not_computed(ALL_FAILED, total=total, **kw)
    if unparsed == "not_computed" and total and parsed == 0:
        return not_computed(NEEDS_JUDGE if judge_missing else "no parseable answers", total=total, **kw)
    m = proportion(k, total if n is None else n, total=total, parsed=parsed, ndigits=ndigits, **kw)
    return replace(m, extra={"judge_missing": judge_missing}) if judge_missing and m.computed else m


def mean_of(
    parts: Mapping[str, Metric],
    *,
    missing: Missing = "skip",
    direction: Direction = "higher",
    headline: bool = False,
    description: str = "",
    ndigits: int | None = None,
) -> Metric:
    """Unweighted mean of sub-metrics (see the module docstring for `missing`). `extra` keeps the
    part values and, for a mean of proportions, the pooled counts (for a Wilson fallback interval)."""
    total = sum(m.total for m in parts.values())
    parsed = sum(m.parsed for m in parts.values())
    kw: dict[str, Any] = {"direction": direction, "headline": headline, "description": description}
    used = {k: m for k, m in parts.items() if m.value is not None}
    if not parts:
        return not_computed("no parts to average", total=total, parsed=parsed, **kw)
    if missing == "fail" and len(used) < len(parts):
        why = ", ".join(f"{k} ({m.reason})" for k, m in parts.items() if m.value is None)
        return not_computed("not computed for " + why, total=total, parsed=parsed, **kw)
    if not used:
        why = "; ".join(f"{k}: {m.reason}" for k, m in parts.items() if m.reason) or "no group to score"
        return not_computed(why, total=total, parsed=parsed, **kw)
    denom = len(parts) if missing == "zero" else len(used)
    value = sum(float(m.value) for m in used.values()) / denom  # type: ignore[arg-type]
    if ndigits is not None:
        value = round(value, ndigits)
    extra: dict[str, Any] = {"groups": {k: m.value for k, m in parts.items()}}
    if all(m.successes is not None for m in used.values()):
        extra["pooled"] = [sum(m.successes for m in used.values()), sum(m.n for m in used.values())]  # type: ignore[misc]
    return Metric(value=value, n=sum(m.n for m in used.values()), total=total, parsed=parsed,
                  ci_kind="bootstrap", extra=extra, **kw)


def cosine(a: Any, b: Any, *, zero: float | None = None) -> float | None:
    """Cosine similarity of two 1-d vectors; None for mismatched, empty or non-finite vectors.
    A zero vector gives `zero` (None; TrustLLM's scikit-learn gives 0)."""
    import numpy as np  # here: the task modules import this one before a run's first request

    va, vb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if va.ndim != 1 or va.shape != vb.shape or va.size == 0:
        return None
    na, nb = float(np.linalg.norm(va)), float(np.linalg.norm(vb))
    if not (math.isfinite(na) and math.isfinite(nb)):
        return None
    if na == 0.0 or nb == 0.0:
        return zero
    return float(np.dot(va, vb) / (na * nb))


def macro_f1(gold: Sequence[str], pred: Sequence[str | None], labels: Sequence[str]) -> float:
    """Macro F1 over `labels` (scikit-learn's `f1_score(average="macro", zero_division=0)`): a
    prediction outside `labels` (unparsed) is a miss for its gold class and no false positive."""
    f1s = []
    for c in labels:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == c and p == c)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != c and p == c)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == c and p != c)
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    return sum(f1s) / len(f1s)


def grouped(xs: Iterable[T], key: Callable[[T], K]) -> dict[K, list[T]]:
    """`xs` by `key(x)`: groups in first-seen order, members in input order, repeats kept."""
    groups: dict[K, list[T]] = {}
    for x in xs:
        groups.setdefault(key(x), []).append(x)
    return groups
