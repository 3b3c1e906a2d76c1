"""The task registry: built-in tasks and plugin tasks, loaded the same way.

A plugin package registers tasks through the Python entry-point group `trustbench.tasks`
(as pytest and Inspect AI plugins do); the entry point names a `Task` or a list of tasks:

    [project.entry-points."trustbench.tasks"]
    toy = "toy_tasks:TASKS"

The built-in dimensions are the same kind of `module:attribute` references, loaded by the same
function. A plugin that cannot be loaded, or that reuses a task name, is a one-line error that
names the entry point: tasks are never dropped silently. See docs/adding-a-task.md.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points

from trustbench.errors import TrustbenchError
from trustbench.judges.prompts import register_templates
from trustbench.tasks.base import DIMENSIONS, Task

ENTRY_POINT_GROUP = "trustbench.tasks"
BUILTIN = "builtin"
_BUILTINS = {dim: f"trustbench.tasks.{dim}:TASKS" for dim in DIMENSIONS}


@dataclass(frozen=True)
class Registered:
    """A task and where it came from: "builtin" or "plugin <distribution> <version> (<entry point>)"."""

    task: Task
    source: str


def _load(ref: str) -> list[Task]:
    """The tasks a `module:attribute` reference names (a Task or an iterable of tasks)."""
    module, _, attr = ref.partition(":")
    obj: object = importlib.import_module(module)
    for part in attr.split(".") if attr else ():
        obj = getattr(obj, part)
    tasks = [obj] if isinstance(obj, Task) else list(obj) if isinstance(obj, Iterable) else None
    if tasks is None or not all(isinstance(t, Task) for t in tasks):
        raise TypeError(f"{ref} is not a Task or a list of Task")
    return tasks


def _plugins() -> list[tuple[Task, str, str]]:
    """Every plugin task with its source and its entry point, in entry-point name order."""
    out = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = f"{ep.dist.name} {ep.dist.version}" if ep.dist is not None else "unknown distribution"
        source = f"plugin {dist} ({ep.name} = {ep.value})"
        try:
            tasks = _load(ep.value)
        except Exception as e:  # a broken plugin: say which one, never drop it silently
            raise TrustbenchError(f"task plugin {ep.name!r} ({ep.value}, {dist}): "
                                  f"{type(e).__name__}: {e}") from None
        out += [(task, source, f"{ep.name!r} ({ep.value})") for task in tasks]
    return out


@cache
def _registry(builtin_dimensions: tuple[str, ...]) -> dict[str, Registered]:
    """The built-in tasks of these dimensions (in dimension order), then every plugin task."""
    out = {t.name: Registered(t, BUILTIN) for dim in builtin_dimensions for t in _load(_BUILTINS[dim])}
    for task, source, entry_point in _plugins():
        if task.name in out:
            raise TrustbenchError(f"task plugin {entry_point}: task {task.name!r} "
                                  f"is already registered by {out[task.name].source}")
        out[task.name] = Registered(task, source)
    for name, r in out.items():  # the judge prompts the tasks own, known to the LLM judge by name
        register_templates(r.task.judge_templates, owner=f"task {name}, {r.source}")
    return out


def registered() -> dict[str, Registered]:
    """Every task by name ("safety/jailbreak"): built-ins in dimension order, then plugins."""
    return _registry(DIMENSIONS)


def forget() -> None:
    """Drop what was loaded: plugins installed since are found on the next lookup."""
    _registry.cache_clear()


def all_tasks() -> dict[str, Task]:
    """All registered tasks by name, built-ins first (in dimension order), then plugins."""
    return {name: r.task for name, r in registered().items()}


def dimensions() -> list[str]:
    """TrustLLM's six dimensions, then any a plugin adds."""
    extra = sorted({r.task.dimension for r in registered().values()} - set(DIMENSIONS))
    return list(DIMENSIONS) + extra


def get_task(name: str) -> Task:
    tasks = all_tasks()
    if name not in tasks:
        raise TrustbenchError(f"unknown task {name!r}; see `trustbench tasks`")
    return tasks[name]


def tasks_for(names: Iterable[str]) -> dict[str, Task]:
    """The registry as far as `names` (dimensions or task names) need it: when each falls in a
    built-in dimension ("safety", "safety/jailbreak"), only those dimensions' task modules are
    imported (and the plugins); otherwise every task. A run of two tasks loads two modules."""
    named = {n.partition("/")[0] for n in names}
    if named <= set(DIMENSIONS):
        return {name: r.task for name, r in _registry(tuple(d for d in DIMENSIONS if d in named)).items()}
    return all_tasks()


def select_tasks(selector: str | None) -> list[Task]:
    """Parse `--tasks`: comma-separated dimensions or task names; None means all."""
    if not selector:
        return list(all_tasks().values())
    parts = [p for p in (p.strip() for p in selector.split(",")) if p]
    tasks = tasks_for(parts)
    dims = set(DIMENSIONS) | {t.dimension for t in tasks.values()}
    chosen: dict[str, Task] = {}
    for part in parts:
        if part in dims:
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
