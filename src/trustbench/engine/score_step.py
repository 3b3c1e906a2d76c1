"""Score step (pure): per task the scorer's metrics with intervals, the dimension summary, and
each sample line completed with its item's score."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from trustbench.engine.judge_step import JudgedTask
from trustbench.scoring.metric_intervals import attach_intervals
from trustbench.scoring.summary import dimension_summary
from trustbench.tasks.base import Item, Task, TaskScore


@dataclass
class Scored:
    tasks: dict[str, Any]  # results.json "tasks"
    dimensions: dict[str, Any]  # results.json "dimensions"
    samples: list[dict[str, Any]]  # samples.jsonl lines
    sample_text: str | None = None  # the same lines serialised (engine.rundir.sample_text), where made early


@dataclass
class ScoredTask:
    """One task's score, its results.json entry and its sample lines (with scores)."""

    task: Task
    score: TaskScore
    entry: dict[str, Any]
    samples: list[dict[str, Any]]
    sample_text: str | None = None
    sample_rows: Any = None  # report.sample_rows.SampleRows of the serialised lines, where made early


def score_task(task: Task, items: list[Item], mode: str, *, seed: int, n_boot: int,
               judge_error: dict[str, Any]) -> TaskScore:
    score = task.score(items, mode)  # type: ignore[arg-type]
    return attach_intervals(task, items, score, mode, seed=seed, n_boot=n_boot, judge_error=judge_error)  # type: ignore[arg-type]


def score_one(jt: JudgedTask, mode: str, *, seed: int, n_boot: int, judge_error: dict[str, Any],
              score: TaskScore | None = None) -> ScoredTask:
    """Score one judged task (a task's score depends on its own items only); `score`: its
    `score_task` result when already computed (engine.score_worker)."""
    task, items = jt.task, jt.items
    s = score if score is not None else score_task(task, items, mode, seed=seed, n_boot=n_boot, judge_error=judge_error)
    entry = {
        "dimension": task.dimension,
        "description": task.description,
        "n_items": len(items),
        "n_failed": sum(1 for it in items if it.response is None),
        "metrics": {k: m.to_dict() for k, m in s.metrics.items()},
    }
    samples = []
    for it, line in zip(items, jt.lines, strict=True):
        cached = line.get("cached")
        samples.append({**{k: v for k, v in line.items() if k != "cached"},
                        "score": s.per_item.get(it.id, {}), "cached": cached})
    return ScoredTask(task, s, entry, samples)


def with_score(scored: ScoredTask, score: TaskScore) -> ScoredTask | None:
    """`scored` (made from the task's score without intervals) with `score`, the same score with
    its intervals; None when the per-item scores differ (then score the task again with `score`)."""
    if score.per_item != scored.score.per_item:
        return None
    scored.score = score
    scored.entry["metrics"] = {k: m.to_dict() for k, m in score.metrics.items()}
    return scored


def assemble(parts: Sequence[ScoredTask]) -> Scored:
    """The run's Scored from its tasks' scores, in the given (task) order."""
    texts = [p.sample_text for p in parts]
    return Scored(
        {p.task.name: p.entry for p in parts},
        dimension_summary({p.task.name: (p.task, p.score) for p in parts}),
        [s for p in parts for s in p.samples],
        "".join(texts) if all(t is not None for t in texts) else None,  # type: ignore[arg-type]
    )


def score(judged: Sequence[JudgedTask], mode: str, *, seed: int, n_boot: int, judge_error: dict[str, Any]) -> Scored:
    return assemble([score_one(jt, mode, seed=seed, n_boot=n_boot, judge_error=judge_error) for jt in judged])
