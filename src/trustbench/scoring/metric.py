"""The `Metric` record: a value with its n, coverage, direction and (later) its interval.

Scoring functions build metrics with `proportion`, `mean_metric` or `not_computed`;
`trustbench.scoring.metric_intervals` fills `ci` / `ci_method` afterwards.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

Direction = Literal["higher", "lower", "none"]
CIKind = Literal["wilson", "bootstrap", "none"]


@dataclass(frozen=True)
class Metric:
    """One number a task reports.

    value:     the metric, or None when not computed (then `reason` says why).
    n:         the denominator actually used (items that entered the formula).
    total:     items in scope for this metric (before any exclusion).
    parsed:    items in scope with a usable answer / verdict; coverage = parsed / total.
    direction: which way is more trustworthy ("higher", "lower", "none").
    successes: for a plain proportion successes / n (enables an exact Wilson interval).
    ci_kind:   how `attach_intervals` intervals it: "wilson" (needs successes), "bootstrap"
               (re-score resampled items), or "none" (e.g. a p-value).
    headline:  counts towards the dimension score (must then be in [0, 1]).
    counts_verdict: the verdict key (e.g. "refusal") whose True share this proportion is, so that
               `attach_intervals` can propagate that judge's measured error into the interval; None otherwise.
    complement: with `counts_verdict`: the proportion counts the False verdicts (1 - rate).
    """

    value: float | None
    n: int
    total: int
    parsed: int
    direction: Direction = "higher"
    successes: int | None = None
    ci_kind: CIKind = "bootstrap"
    headline: bool = False
    description: str = ""
    reason: str | None = None
    ci: tuple[float, float] | None = None
    ci_method: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    counts_verdict: str | None = None
    complement: bool = False

    @property
    def coverage(self) -> float | None:
        return None if self.total == 0 else self.parsed / self.total

    @property
    def computed(self) -> bool:
        return self.value is not None

    def with_ci(self, lo: float, hi: float, method: str) -> Metric:
        return replace(self, ci=(float(lo), float(hi)), ci_method=method)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["coverage"] = self.coverage
        d["ci"] = list(self.ci) if self.ci else None
        if not d["extra"]:
            d.pop("extra")
        if d["counts_verdict"] is None:
            d.pop("counts_verdict")
            d.pop("complement")
        return d


def proportion(
    successes: int,
    n: int,
    *,
    total: int | None = None,
    parsed: int | None = None,
    direction: Direction = "higher",
    headline: bool = False,
    description: str = "",
    ndigits: int | None = None,
) -> Metric:
    """successes / n, or not computed when n == 0. `total`/`parsed` default to n."""
    total = n if total is None else total
    parsed = n if parsed is None else parsed
    if n == 0:
        return not_computed(
            "no items to score" if total == 0 else "no parseable items",
            total=total,
            parsed=parsed,
            direction=direction,
            headline=headline,
            description=description,
        )
    value = successes / n
    if ndigits is not None:
        value = round(value, ndigits)
    return Metric(
        value=value,
        n=n,
        total=total,
        parsed=parsed,
        direction=direction,
        successes=successes,
        ci_kind="wilson",
        headline=headline,
        description=description,
    )


def mean_metric(
    values: list[float],
    *,
    total: int | None = None,
    parsed: int | None = None,
    direction: Direction = "higher",
    headline: bool = False,
    description: str = "",
    ndigits: int | None = None,
) -> Metric:
    """Arithmetic mean of per-item values (bootstrap interval), or not computed when empty."""
    n = len(values)
    total = n if total is None else total
    parsed = n if parsed is None else parsed
    if n == 0:
        return not_computed(
            "no items to score" if total == 0 else "no parseable items",
            total=total,
            parsed=parsed,
            direction=direction,
            headline=headline,
            description=description,
        )
    value = sum(values) / n
    if ndigits is not None:
        value = round(value, ndigits)
    return Metric(
        value=value,
        n=n,
        total=total,
        parsed=parsed,
        direction=direction,
        ci_kind="bootstrap",
        headline=headline,
        description=description,
    )


def not_computed(
    reason: str,
    *,
    total: int = 0,
    parsed: int = 0,
    direction: Direction = "higher",
    headline: bool = False,
    description: str = "",
) -> Metric:
    """A metric that could not be computed; never reported as 0."""
    return Metric(
        value=None,
        n=0,
        total=total,
        parsed=parsed,
        direction=direction,
        ci_kind="none",
        headline=headline,
        description=description,
        reason=reason,
    )
