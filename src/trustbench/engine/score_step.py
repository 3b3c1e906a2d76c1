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


def score_task(task: Task, items: list[Item], mode: str, *, seed: int, n_boot: int,
               judge_error: dict[str, Any]) -> TaskScore:
    score = task.score(items, mode)  # type: ignore[arg-type]
    return attach_intervals(task, items, score, mode, seed=seed, n_boot=n_boot, judge_error=judge_error)  # type: ignore[arg-type]


def score(judged: Sequence[JudgedTask], mode: str, *, seed: int, n_boot: int, judge_error: dict[str, Any]) -> Scored:
    results_tasks: dict[str, Any] = {}
    scored: dict[str, tuple[Task, TaskScore]] = {}
    samples: list[dict[str, Any]] = []
    for jt in judged:
        task, items = jt.task, jt.items
        s = score_task(task, items, mode, seed=seed, n_boot=n_boot, judge_error=judge_error)
        scored[task.name] = (task, s)
        results_tasks[task.name] = {
            "dimension": task.dimension,
            "description": task.description,
            "n_items": len(items),
            "n_failed": sum(1 for it in items if it.response is None),
            "metrics": {k: m.to_dict() for k, m in s.metrics.items()},
        }
        for it, line in zip(items, jt.lines, strict=True):
            cached = line.get("cached")
            samples.append({**{k: v for k, v in line.items() if k != "cached"},
                            "score": s.per_item.get(it.id, {}), "cached": cached})
    return Scored(results_tasks, dimension_summary(scored), samples)
