"""Checks every `SplitScorer` task must pass: its aggregate counts a repeated outcome each time,
exactly as the scorer counts a repeated item, and its outcome bootstrap gives the intervals the
item bootstrap (re-running the same scorer on resampled items) gives."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from trustbench.scoring.items import Item, ScoringMode, SplitScorer
from trustbench.scoring.metric_intervals import attach_intervals
from trustbench.tasks.base import Task


def split_and_plain_intervals(task: Task, items: Sequence[Item], mode: ScoringMode, *, seed: int = 3,
                              n_boot: int = 60) -> tuple[dict[str, Any], dict[str, Any]]:
    """{metric: (value, ci, ci_method, extra)} with the outcome bootstrap (parse once, resample
    outcomes) and with the item bootstrap (the same scorer wrapped so that it is not a SplitScorer)."""
    assert isinstance(task.score, SplitScorer)
    score = task.score(items, mode)
    plain_task = replace(task, score=lambda its, m: task.score(its, m))

    def cis(t: Task) -> dict[str, Any]:
        s = attach_intervals(t, items, score, mode, seed=seed, n_boot=n_boot)
        return {k: (m.value, m.ci, m.ci_method, m.extra) for k, m in s.metrics.items()}

    return cis(task), cis(plain_task)


def assert_outcome_bootstrap_matches(task: Task, items: Sequence[Item], mode: ScoringMode, *, boot: bool) -> None:
    """Intervals from resampling outcomes == from re-scoring resampled items (seeded). `boot`: whether
    some metric gets a bootstrap interval (else only Wilson intervals are compared)."""
    split, plain = split_and_plain_intervals(task, items, mode)
    assert split == plain
    assert boot == any((method or "").startswith("bootstrap") for _, _, method, _ in split.values())


def assert_repeats_counted(task: Task, items: Sequence[Item], mode: ScoringMode, repeat: Sequence[int]) -> None:
    """aggregate(outcomes + the outcomes at `repeat`) == score(items + copies of those items)."""
    split = task.score
    assert isinstance(split, SplitScorer)
    outcomes = split.outcomes(items, mode)
    copies = [replace(items[i], id=f"{items[i].id}#1") for i in repeat]
    by_outcome = split.aggregate(outcomes + [outcomes[i] for i in repeat], mode).metrics
    by_item = split(list(items) + copies, mode).metrics
    assert by_outcome == by_item
    assert by_outcome != split(items, mode).metrics  # the repeats changed something
