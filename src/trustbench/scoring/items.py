"""What a scorer reads and returns: `Item` (a record, its response and judge verdicts), `TaskScore`,
the scoring modes, `SplitScorer` (parse each item, then aggregate the outcomes) and `Scorable`,
the part of a task the statistics need. Tasks build on these;
nothing here imports `trustbench.tasks`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Generic, Literal, Protocol, TypeVar

from trustbench.scoring.metric import Metric

ScoringMode = Literal["corrected", "trustllm"]
SCORING_MODES: tuple[str, ...] = ("corrected", "trustllm")


@dataclass(frozen=True)
class Item:
    """One scored unit: the record, the model's response, and judge verdicts."""

    task: str
    id: str
    index: int
    record: Mapping[str, Any]
    response: str | None
    error: str | None = None
    verdicts: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskScore:
    """What a scorer returns. `metrics` keys are TrustLLM's key names in trustllm mode."""

    metrics: dict[str, Metric]
    per_item: dict[str, dict[str, Any]] = field(default_factory=dict)


Outcome = TypeVar("Outcome")


@dataclass(frozen=True)
class SplitScorer(Generic[Outcome]):
    """A task's scorer in two pure steps.

    parse:          item -> outcome (what one answer means: a label, correct or not, None when
                    unparsed); `parse_trustllm` replaces it in trustllm mode where TrustLLM's
                    rules differ.
    aggregate:      (outcomes, mode) -> TaskScore. It must count every outcome it is given, a
                    repeated one each time: the bootstrap parses once and resamples the outcomes
                    (whole sampling units where the task has them, `Task.unit`) instead of
                    re-running the whole scorer.
    copy:           (outcome, r) -> the outcome as part of the r-th extra copy (r >= 1) of its
                    sampling unit in a bootstrap resample, changed so that the aggregate takes
                    the copy for a unit of its own rather than merging it with the first copy
                    (for an aggregate that groups outcomes by a field, e.g. `copy_with_fresh_index`
                    for a pair index). None: the aggregate already counts a repeated unit each time.
    """

    parse: Callable[[Item], Outcome]
    aggregate: Callable[[Sequence[Outcome], ScoringMode], TaskScore]
    parse_trustllm: Callable[[Item], Outcome] | None = None
    copy: Callable[[Outcome, int], Outcome] | None = None

    def outcomes(self, items: Sequence[Item], mode: ScoringMode) -> list[Outcome]:
        parse = self.parse_trustllm if mode == "trustllm" and self.parse_trustllm is not None else self.parse
        return [parse(it) for it in items]

    def __call__(self, items: Sequence[Item], mode: ScoringMode) -> TaskScore:
        return self.aggregate(self.outcomes(items, mode), mode)


# A bootstrap copy's index offset: larger than any record index, so copies never meet real indices.
COPY_INDEX_STRIDE = 10_000_000


def copy_with_fresh_index(outcome: Outcome, r: int) -> Outcome:
    """`SplitScorer.copy` for outcomes whose aggregate groups by an integer field `index` (pairs,
    variant groups): the r-th copy gets index + r * COPY_INDEX_STRIDE (parity kept)."""
    return replace(outcome, index=outcome.index + r * COPY_INDEX_STRIDE)  # type: ignore[attr-defined]


class Scorable(Protocol):
    """A task as `scoring.metric_intervals` sees it (`trustbench.tasks.base.Task` is one)."""

    dimension: str
    score: Callable[[Sequence[Item], ScoringMode], TaskScore]
    unit: Callable[[Mapping[str, Any], int], str] | None
    unit_copy: Callable[[Mapping[str, Any], int], Mapping[str, Any]] | None  # only for a scorer that is not a SplitScorer
