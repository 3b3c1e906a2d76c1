"""A forked worker process answering jobs over a pipe, one at a time (engine/score_worker.py,
engine/judge_worker.py). Forked before generation starts, it holds this run's objects as they
were then; a job that cannot be sent, a worker that died and an error answer all come back as
None, and the caller does the work in process. Linux only (fork)."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any


def serve(conn: Any, setup: Callable[..., Callable[[Any], Any]], *args: Any) -> None:
    """The worker: `setup(*args)` (imports and loads, once) gives the job handler; then each job
    is answered ("ok", value) or ("error", repr) until None or the pipe closes. A failed setup
    is answered ("error", repr) and ends the worker."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the worker (Ctrl-C reaches both)
    except ValueError:  # forked from a thread other than the main one: the parent still kills it
        pass
    try:
        handle = setup(*args)
    except BaseException as e:  # noqa: BLE001 - the parent does the work in process (and raises there)
        conn.send(("error", repr(e)))
        return
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        try:
            conn.send(("ok", handle(job)))
        except BaseException as e:  # noqa: BLE001
            conn.send(("error", repr(e)))


class ForkedWorker:
    """`serve(conn, setup, *args)` in a forked process; `ask` sends a job and returns its answer."""

    def __init__(self, setup: Callable[..., Callable[[Any], Any]], args: tuple[Any, ...], name: str):
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
            self.proc = ctx.Process(target=serve, args=(child, setup, *args), daemon=True, name=name)
            self.proc.start()
            child.close()
        except (OSError, ValueError):
            self.proc = None

    async def ask(self, job: tuple[Any, ...]) -> Any:
        """The worker's answer to `job`, in a thread (the event loop goes on), or None."""
        if self.proc is None:
            return None
        return await asyncio.to_thread(self._job, job)

    def _job(self, job: tuple[Any, ...]) -> Any:
        with self._lock:
            if self.proc is None:
                return None
            try:
                self.conn.send(job)
                status, value = self.conn.recv()
            except Exception:  # noqa: BLE001 - a job that cannot be sent, or the worker died
                self._stop()
                return None
            return value if status == "ok" else None

    def _stop(self, wait: bool = True) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.conn.close()
        if not wait:  # it ends by itself; multiprocessing reaps it (at the latest at exit)
            return
        proc.join(2)
        if proc.is_alive():
            proc.kill()
            proc.join(2)

    def close(self, *, abort: bool = False) -> None:
        """Stop the worker; `abort` (the run failed or was interrupted) kills it at once, which
        also ends a job in flight. Otherwise the worker is told to end and not waited for: its
        exit overlaps the run's last steps."""
        if abort and self.proc is not None:
            try:
                os.kill(self.proc.pid, signal.SIGKILL)
            except (OSError, AttributeError):
                pass
        with self._lock:
            self._stop(wait=abort)
