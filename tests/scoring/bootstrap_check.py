"""What a SplitScorer's bootstrap must match: re-running the same scorer on resampled items."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from trustbench.scoring.items import Item, ScoringMode, SplitScorer
from trustbench.scoring.metric_intervals import attach_intervals
from trustbench.tasks.base import Task


def split_and_plain_intervals(task: Task, items: Sequence[Item], mode: ScoringMode, *, seed: int = 3,
                              n_boot: int = 60) -> tuple[dict[str, Any], dict[str, Any]]:
    """{metric: (value, ci, ci_method)} with the outcome bootstrap (parse once, resample outcomes)
    and with the item bootstrap (the same scorer wrapped so that it is not a SplitScorer)."""
    assert isinstance(task.score, SplitScorer)
    score = task.score(items, mode)
    plain_task = replace(task, score=lambda its, m: task.score(its, m))

    def cis(t: Task) -> dict[str, Any]:
        s = attach_intervals(t, items, score, mode, seed=seed, n_boot=n_boot)
        return {k: (m.value, m.ci, m.ci_method) for k, m in s.metrics.items()}

    return cis(task), cis(plain_task)
