"""Read an Inspect AI eval log of TrustLLM tasks as TrustLLM generation files, for `trustbench score`.

Each sample is matched to its TrustLLM record: by the `task` and `index` in its metadata (logs
written by `trustbench export`), else by its prompt (the last user message), which must equal a
record's `prompt` in the selected data files. The answer is the sample's output (None when the
sample or its output carries an error). Only the first epoch is read. The records found are
written as `<dimension>/<file>.json` with `res`, the layout `trustbench score` takes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trustbench.data.loader import read_json_records
from trustbench.errors import DataError, TrustbenchError
from trustbench.tasks.base import Task

LOG_SUFFIXES = (".eval", ".json")


def is_inspect_log(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in LOG_SUFFIXES


def _read_log(path: Path) -> Any:
    try:
        from inspect_ai.log import read_eval_log
    except ImportError:
        raise TrustbenchError("scoring an Inspect log needs inspect-ai: pip install 'trustbench[inspect]'") from None
    try:
        return read_eval_log(str(path))
    except Exception as e:  # Inspect raises several types for a file that is not a log
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise TrustbenchError(f"{path}: not a readable Inspect log ({msg[:200]})") from None


def _prompt(sample: Any) -> str | None:
    if isinstance(sample.input, str):
        return sample.input
    users = [m for m in sample.input if getattr(m, "role", None) == "user"]
    return users[-1].text if users else None


def _answer(sample: Any) -> str | None:
    output = sample.output
    if sample.error is not None or output is None or getattr(output, "error", None) or not output.choices:
        return None
    return output.completion


def inspect_to_generation(log_path: Path, root: Path, tasks: Sequence[Task], dest: Path) -> dict[str, tuple[int, int]]:
    """Write the log's answers as generation files under `dest`; per task (answered, records)."""
    log = _read_log(log_path)
    samples = [s for s in (log.samples or []) if (s.epoch or 1) == 1]
    if not samples:
        raise TrustbenchError(f"{log_path}: the log has no samples")
    by_name = {t.name: t for t in tasks}
    records: dict[str, list[dict[str, Any]]] = {}
    by_prompt: dict[str, list[tuple[str, int]]] = {}
    for t in tasks:
        path = root / t.dimension / t.file
        if not path.is_file():
            continue
        records[t.name], _ = read_json_records(path)
        for i, rec in enumerate(records[t.name]):
            if isinstance(rec.get("prompt"), str):
                by_prompt.setdefault(rec["prompt"], []).append((t.name, i))
    if not records:
        raise TrustbenchError(f"--data {root}: none of the selected tasks' files is there")
    answers: dict[str, dict[int, str | None]] = {}
    for s in samples:
        meta = s.metadata or {}
        prompt = _prompt(s)
        if meta.get("task") in records and isinstance(meta.get("index"), int):
            name, idx = meta["task"], meta["index"]
            recs = records[name]
            if not 0 <= idx < len(recs) or recs[idx].get("prompt") != prompt:
                raise DataError(f"{log_path}: sample {s.id}: its prompt is not record {idx} of {name} in {root}")
        else:
            free = [(n, i) for n, i in by_prompt.get(prompt or "", []) if i not in answers.get(n, {})]
            if not free:
                raise DataError(f"{log_path}: sample {s.id}: no record of the selected tasks has its prompt "
                                f"(pass --data and --tasks for the log's TrustLLM files)")
            if len({n for n, _ in free}) > 1:
                raise DataError(f"{log_path}: sample {s.id}: its prompt is in several tasks "
                                f"({', '.join(sorted({n for n, _ in free}))}); choose one with --tasks")
            name, idx = free[0]
        answers.setdefault(name, {})[idx] = _answer(s)
    out = {}
    for name, got in answers.items():
        task = by_name[name]
        recs = [{**records[name][i], "res": got[i]} for i in sorted(got)]
        path = dest / task.dimension / task.file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(recs, ensure_ascii=False), encoding="utf-8")
        out[name] = (len(got), len(records[name]))
    return out


def inspect_generation_dir(log_path: Path, data: str | None, tasks: str | None, dest: Path) -> Path:
    """`trustbench score LOG`: the log's answers as a generation_results folder under `dest`."""
    from trustbench.data.loader import suite_root
    from trustbench.tasks.registry import select_tasks

    selected = select_tasks(tasks)
    if not selected:
        raise TrustbenchError(f"--tasks: {tasks!r} selects no tasks; see `trustbench tasks`")
    inspect_to_generation(log_path, suite_root("trustllm", data), selected, dest)
    return dest
