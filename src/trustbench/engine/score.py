"""`trustbench score`: score TrustLLM `generation_results` files (records with `res`)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from trustbench.data.loader import read_json_records, validate_records
from trustbench.engine.judging import JudgeSet, apply_judges
from trustbench.errors import DataError, TrustbenchError
from trustbench.scoring.metric_intervals import attach_intervals
from trustbench.tasks.base import SCORING_MODES, Item, Task, TaskScore
from trustbench.tasks.registry import all_tasks


def items_from_generation(task: Task, path: Path) -> list[Item]:
    """Items from a TrustLLM generation file; `res` may be a string or null (failed generation)."""
    records, _ = read_json_records(path)
    validate_records(task, path, records)
    items = []
    for i, rec in enumerate(records):
        if "res" not in rec:
            raise DataError(f"{path}: record {i}: missing field 'res' (not a generation result)")
        res = rec["res"]
        if res is not None and not isinstance(res, str):
            raise DataError(f"{path}: record {i}: field 'res' must be a string or null")
        items.append(
            Item(
                task=task.name,
                id=task.item_id(rec, i),
                index=i,
                record=rec,
                response=res,
                error=None if res is not None else "no response in the generation file",
                verdicts=task.frozen(rec),
            )
        )
    return items


def find_generation_files(root: Path) -> list[tuple[Task, Path]]:
    if not root.is_dir():
        raise TrustbenchError(f"{root}: not a directory")
    found = []
    for task in all_tasks().values():
        path = root / task.dimension / task.file
        if path.is_file():
            found.append((task, path))
    if not found:
        raise TrustbenchError(f"{root}: no <dimension>/<file>.json generation files of known tasks found")
    return found


async def score_dir_async(root: Path, mode: str, judges: JudgeSet, *, seed: int = 0, n_boot: int = 200) -> dict[str, Any]:
    if mode not in SCORING_MODES:
        raise TrustbenchError(f"--scoring: must be one of {', '.join(SCORING_MODES)}")
    out: dict[str, Any] = {}
    try:
        for task, path in find_generation_files(root):
            out.setdefault(task.dimension, {})[task.stem] = await _score_file(task, path, mode, judges, seed, n_boot)
    finally:
        await judges.aclose()
    return out


async def _score_file(task: Task, path: Path, mode: str, judges: JudgeSet, seed: int, n_boot: int) -> dict[str, Any]:
    items = items_from_generation(task, path)
    items, _ = await apply_judges(task, items, judges)
    score: TaskScore = task.score(items, mode)  # type: ignore[arg-type]
    if mode == "trustllm":
        return {k: m.value for k, m in score.metrics.items()}
    score = attach_intervals(task, items, score, mode, seed=seed, n_boot=n_boot)  # type: ignore[arg-type]
    return {k: m.to_dict() for k, m in score.metrics.items()}


def score_dir(root: Path, mode: str, judges: JudgeSet, **kw: Any) -> dict[str, Any]:
    return asyncio.run(score_dir_async(root, mode, judges, **kw))
