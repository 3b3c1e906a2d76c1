"""The task registry: every task module exposes `TASKS: list[Task]`."""

from __future__ import annotations

import importlib
from functools import cache

from trustbench.errors import TrustbenchError
from trustbench.tasks.base import DIMENSIONS, Task

_MODULES = {
    "truthfulness": "trustbench.tasks.truthfulness",
    "safety": "trustbench.tasks.safety",
    "fairness": "trustbench.tasks.fairness",
    "robustness": "trustbench.tasks.robustness",
    "privacy": "trustbench.tasks.privacy",
    "ethics": "trustbench.tasks.ethics",
}


@cache
def all_tasks() -> dict[str, Task]:
    """All registered tasks by name ("safety/jailbreak"), in dimension order."""
    out: dict[str, Task] = {}
    for dim in DIMENSIONS:
        try:
            mod = importlib.import_module(_MODULES[dim])
        except ModuleNotFoundError as e:  # a dimension not implemented yet
            if e.name == _MODULES[dim]:
                continue
            raise
        for task in mod.TASKS:
            out[task.name] = task
    return out


def get_task(name: str) -> Task:
    tasks = all_tasks()
    if name not in tasks:
        raise TrustbenchError(f"unknown task {name!r}; see `trustbench tasks`")
    return tasks[name]


def select_tasks(selector: str | None) -> list[Task]:
    """Parse `--tasks`: comma-separated dimensions or task names; None means all."""
    tasks = all_tasks()
    if not selector:
        return list(tasks.values())
    chosen: dict[str, Task] = {}
    for part in (p.strip() for p in selector.split(",")):
        if not part:
            continue
        if part in DIMENSIONS:
            matched = [t for t in tasks.values() if t.dimension == part]
            if not matched:
                raise TrustbenchError(f"--tasks: dimension {part!r} has no tasks implemented")
        elif part in tasks:
            matched = [tasks[part]]
        else:
            raise TrustbenchError(f"--tasks: unknown task or dimension {part!r}; see `trustbench tasks`")
        for t in matched:
            chosen[t.name] = t
    return [t for t in tasks.values() if t.name in chosen]
