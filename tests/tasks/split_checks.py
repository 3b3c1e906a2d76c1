"""Checks every `SplitScorer` task must pass: its aggregate counts a repeated outcome each time,
exactly as the scorer counts a repeated item, and its outcome bootstrap gives the intervals the
item bootstrap (re-scoring resampled items) gives."""

from __future__ import annotations

from dataclasses import replace

from trustbench.scoring.items import SplitScorer
from trustbench.scoring.metric_intervals import attach_intervals


def assert_repeats_counted(task, items, mode, repeat):
    """aggregate(outcomes + the outcomes at `repeat`) == score(items + copies of those items)."""
    split = task.score
    assert isinstance(split, SplitScorer)
    outcomes = split.outcomes(items, mode)
    copies = [replace(items[i], id=f"{items[i].id}#1") for i in repeat]
    by_outcome = split.aggregate(outcomes + [outcomes[i] for i in repeat], mode).metrics
    by_item = split(list(items) + copies, mode).metrics
    assert by_outcome == by_item
    assert by_outcome != split(items, mode).metrics  # the repeats changed something


def assert_outcome_bootstrap_matches(task, items, mode, *, boot):
    """Intervals from resampling outcomes == from re-scoring resampled items (seeded). `boot`: whether
    some metric gets a bootstrap interval (else only Wilson intervals are compared)."""
    score = task.score(items, mode)
    split = attach_intervals(task, items, score, mode, seed=3, n_boot=60)
    plain_task = replace(task, score=lambda its, m: task.score(its, m))  # the same scorer, not split
    plain = attach_intervals(plain_task, items, score, mode, seed=3, n_boot=60)
    assert {k: (m.value, m.ci, m.ci_method, m.extra) for k, m in split.metrics.items()} == \
        {k: (m.value, m.ci, m.ci_method, m.extra) for k, m in plain.metrics.items()}
    assert boot == any((m.ci_method or "").startswith("bootstrap") for m in split.metrics.values())
