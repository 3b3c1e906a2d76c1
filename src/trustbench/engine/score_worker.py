"""Score large tasks in a forked worker process, so that their bootstrap does not take the
interpreter lock from the event loop that is still generating the other tasks.

The worker is forked before generation starts (before the model's HTTP session, the judges and
numpy exist), so it holds the very task objects of this run; a job names a task and carries its
judged items; the answer is the task's `TaskScore`, computed by the same `score_task` as in
process, so the result is the same. Anything unexpected (no fork on this platform, a task that
cannot be sent, the worker dying or raising) returns None and the caller scores in process,
where a genuine scorer error is raised as before. Linux only (fork).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trustbench.engine.forked import ForkedWorker
from trustbench.tasks.base import Task

MIN_WORK = 100_000  # items x bootstrap resamples from which a task is worth sending


def _setup(tasks: dict[str, Task]) -> Any:
    from trustbench.engine.score_step import score_task  # numpy and the interval code, before the first job

    def handle(job: tuple[Any, ...]) -> Any:
        name, items, mode, seed, n_boot, judge_error = job
        return score_task(tasks[name], items, mode, seed=seed, n_boot=n_boot, judge_error=judge_error)

    return handle


class ScoreWorker(ForkedWorker):
    """One forked process scoring tasks in turn (`score`); `close` stops it."""

    def __init__(self, tasks: Sequence[Task]):
        super().__init__(_setup, ({t.name: t for t in tasks},), "trustbench-score")

    @staticmethod
    def wants(n_items: int, n_boot: int) -> bool:
        return n_items * max(n_boot, 1) >= MIN_WORK

    async def score(self, task: Task, items: list[Any], mode: str, *, seed: int, n_boot: int,
                    judge_error: dict[str, Any]) -> Any:
        """The task's TaskScore from the worker, or None (then score in process)."""
        return await self.ask((task.name, items, mode, seed, n_boot, judge_error))
