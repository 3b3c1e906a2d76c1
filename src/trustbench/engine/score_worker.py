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

import asyncio
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from trustbench.tasks.base import Task

MIN_WORK = 100_000  # items x bootstrap resamples from which a task is worth sending


def _serve(conn: Any, tasks: dict[str, Task]) -> None:
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the worker (Ctrl-C reaches both)
    except ValueError:  # forked from a thread other than the main one: the parent still kills it
        pass
    try:
        from trustbench.engine.score_step import score_task  # numpy and the interval code, before the first job
    except BaseException as e:  # noqa: BLE001
        conn.send(("error", repr(e)))
        return
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        name, items, mode, seed, n_boot, judge_error = job
        try:
            conn.send(("ok", score_task(tasks[name], items, mode, seed=seed, n_boot=n_boot, judge_error=judge_error)))
        except BaseException as e:  # noqa: BLE001 - the parent scores in process and raises there
            conn.send(("error", repr(e)))


class ScoreWorker:
    """One forked process scoring tasks in turn (`score`); `close` stops it."""

    def __init__(self, tasks: Sequence[Task]):
        self.proc: Any = None
        self.conn: Any = None
        self._lock = threading.Lock()  # one job at a time on the pipe
        if sys.platform != "linux":
            return
        try:
            sys.stdout.flush()  # the child must not write out what this process has buffered
            sys.stderr.flush()
            ctx = multiprocessing.get_context("fork")
            self.conn, child = ctx.Pipe()
            self.proc = ctx.Process(target=_serve, args=(child, {t.name: t for t in tasks}), daemon=True,
                                    name="trustbench-score")
            self.proc.start()
            child.close()
        except (OSError, ValueError):
            self.proc = None

    @staticmethod
    def wants(n_items: int, n_boot: int) -> bool:
        return n_items * max(n_boot, 1) >= MIN_WORK

    def _job(self, job: tuple[Any, ...]) -> Any:
        with self._lock:
            if self.proc is None:
                return None
            try:
                self.conn.send(job)
                status, value = self.conn.recv()
            except Exception:  # noqa: BLE001 - a job that cannot be sent, or the worker died: score in process
                self._stop()
                return None
            return value if status == "ok" else None

    async def score(self, task: Task, items: list[Any], mode: str, *, seed: int, n_boot: int,
                    judge_error: dict[str, Any]) -> Any:
        """The task's TaskScore from the worker, or None (then score in process)."""
        if self.proc is None:
            return None
        return await asyncio.to_thread(self._job, (task.name, items, mode, seed, n_boot, judge_error))

    def _stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass
        proc.join(2)
        if proc.is_alive():
            proc.kill()
            proc.join(2)
        self.conn.close()

    def close(self, *, abort: bool = False) -> None:
        """Stop the worker; `abort` (the run failed or was interrupted) kills it at once, which
        also ends a job in flight."""
        if abort and self.proc is not None:
            try:
                os.kill(self.proc.pid, signal.SIGKILL)
            except (OSError, AttributeError):
                pass
        with self._lock:
            self._stop()
