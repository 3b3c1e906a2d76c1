"""Judge and score each task while the model is still answering the others.

Generation waits on the model; the process is mostly idle. The pipeline uses that time:

- responses are judged as they arrive, in chunks, by the judges whose verdict on a text does not
  depend on the other texts in its batch (`streams`); the verdicts are kept by query;
- once every request of a task has its response (or error), the task is judged (the judge step
  as after generation, the streamed kinds answered from the kept verdicts, the others asked now)
  and scored with its intervals off the event loop (`score_fn`: a worker thread, or for a large
  task the forked scoring process of engine/score_worker.py).

After the last response only the last chunk of texts and the tasks not finished yet remain. The
results are the same as judging and scoring after generation: the same judge step and scorer run
on the same items, every streamed verdict is the one the judge gives the same text in any batch,
and judge error counts are merged in task order. Beside a model on this machine (`early=False`:
llama.cpp, transformers keep the cores busy) nothing runs early and `finish` does all the work.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from trustbench.core.judge import CachedJudge, Query, Verdict
from trustbench.engine.generate import Generation
from trustbench.engine.judge_step import JudgedTask, judge
from trustbench.engine.plan import Planned
from trustbench.judges.judgeset import JudgeSet
from trustbench.tasks.base import Task

CHUNK = 64  # texts per streamed judge call: small enough that the tail after the last response is short


def streams(judge: Any) -> bool:
    """Whether a judge's verdict on a query is independent of the batch it is asked in: a judge
    that says so (`batch_invariant`), or one asked one query per call (`max_batch == 1`)."""
    return bool(getattr(judge, "batch_invariant", False)) or getattr(judge, "max_batch", None) == 1


def _qkey(q: Query) -> tuple[Any, ...]:
    fields = json.dumps(q.fields, sort_keys=True, ensure_ascii=False, default=str) if q.fields else ""
    return (q.text, q.template, fields)


class KindStream:
    """One judge kind's verdicts, asked in chunks as texts arrive; `run` is the `CachedJudge.run`
    the judge step calls, answered from the kept verdicts (asking only what was not streamed)."""

    def __init__(self, runner: CachedJudge, ready: Awaitable[Any] | None = None):
        self.runner = runner
        self.ready = ready  # awaited before the first chunk (judge loading that overlaps generation)
        self.memo: dict[tuple[Any, ...], Verdict] = {}
        self.pending: list[Query] = []
        self.queued: set[tuple[Any, ...]] = set()
        self.inflight: set[asyncio.Future[None]] = set()
        self.error: BaseException | None = None  # the first chunk's failure, re-raised by `settle`

    def submit(self, q: Query) -> None:
        k = _qkey(q)
        if k in self.queued:
            return
        self.queued.add(k)
        self.pending.append(q)
        if len(self.pending) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        chunk, self.pending = self.pending, []
        fut = asyncio.ensure_future(self._ask(chunk))
        self.inflight.add(fut)
        fut.add_done_callback(self._done)

    def _done(self, fut: asyncio.Future[None]) -> None:
        self.inflight.discard(fut)
        if not fut.cancelled() and fut.exception() is not None and self.error is None:
            self.error = fut.exception()

    async def _ask(self, queries: list[Query]) -> None:
        if self.ready is not None:
            await self.ready
        for q, v in zip(queries, await self.runner.run(queries), strict=True):
            self.memo[_qkey(q)] = v

    async def settle(self) -> None:
        """Ask what is pending and wait for every chunk in flight (re-raising a judge's failure)."""
        self.flush()
        while self.inflight:
            await asyncio.gather(*list(self.inflight))
        if self.error is not None:
            raise self.error

    async def run(self, queries: Sequence[Query]) -> list[Verdict]:
        await self.settle()
        missing = list({_qkey(q): q for q in queries if _qkey(q) not in self.memo}.values())
        if missing:
            await self._ask(missing)
        return [self.memo[_qkey(q)] for q in queries]

    def cancel(self) -> None:
        for fut in list(self.inflight):
            fut.cancel()


class TaskJudges:
    """The JudgeSet one task's judge step sees: streamed kinds answer from their KindStream, and
    judge errors are counted per task (merged into the run's in task order)."""

    def __init__(self, judges: JudgeSet, kinds: dict[str, KindStream]):
        self._judges = judges
        self._kinds = kinds
        self.errors: dict[str, int] = {}

    def runner(self, kind: str) -> Any:
        return self._kinds.get(kind) or self._judges.runner(kind)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._judges, name)


ScoreFn = Callable[[JudgedTask], Awaitable[Any]]  # scores a judged task (off the event loop)


class Pipeline:
    """Feeds arriving responses to the streamed judges and finishes each task when its last
    request is resolved. `resolved` is generate's `on_resolved`; it may be called before
    `start(judges)` (the judges load while the first requests are out): what arrived is then fed
    at `start`. `finish` returns, in task order, each task's JudgedTask and `score_fn`'s result.
    Judging waits for `ready` (the judge loading that overlaps generation)."""

    def __init__(self, tasks: Sequence[Task], planned: Sequence[Planned], score_fn: ScoreFn, *, early: bool = True):
        self.tasks = list(tasks)
        self.score_fn = score_fn
        self.early = early
        self.by_task: dict[str, list[Planned]] = {t.name: [] for t in self.tasks}
        self.by_key: dict[str, list[Planned]] = {}
        for p in planned:
            self.by_task.setdefault(p.task.name, []).append(p)
            self.by_key.setdefault(p.key, []).append(p)
        self.left = {name: len({p.key for p in ps}) for name, ps in self.by_task.items()}
        self.seen: set[str] = set()
        self.judges: JudgeSet | None = None
        self.ready: Awaitable[Any] | None = None
        self.kinds: dict[str, KindStream] = {}
        self.gen: Generation | None = None
        self.done: dict[str, asyncio.Future[tuple[JudgedTask, dict[str, int], Any]]] = {}

    def start(self, judges: JudgeSet, ready: Awaitable[Any] | None = None) -> None:
        self.judges, self.ready = judges, ready
        kinds = judges.by_kind() if self.early else {}
        self.kinds = {k: KindStream(judges.runner(k), ready) for k, j in kinds.items() if streams(j)}  # type: ignore[arg-type]
        for key in self.seen:
            self._feed(key)
        for name, left in self.left.items():
            if left == 0 and self.early:
                self._start(name)

    def resolved(self, key: str, gen: Generation) -> None:
        self.gen = gen
        if key in self.seen or key not in self.by_key:
            return
        self.seen.add(key)
        if self.judges is not None:
            self._feed(key)
        for name in {p.task.name for p in self.by_key[key]}:
            self.left[name] -= 1
            if self.left[name] == 0 and self.early and self.judges is not None:
                self._start(name)

    def _feed(self, key: str) -> None:
        value = self.gen.responses.get(key) if self.gen is not None else None
        if value is None or value.get("text") is None or not self.kinds:
            return
        for p in self.by_key[key]:
            frozen = p.task.frozen(p.record)
            for r in p.task.judges(p.record, value["text"]):
                stream = self.kinds.get(r.kind)
                if stream is not None and r.key not in frozen:
                    stream.submit(Query(r.text, r.template, r.fields))

    def _start(self, name: str) -> None:
        if name not in self.done and self.gen is not None:
            task = next(t for t in self.tasks if t.name == name)
            self.done[name] = asyncio.ensure_future(self._finish_task(task, self.gen))

    async def _finish_task(self, task: Task, gen: Generation) -> tuple[JudgedTask, dict[str, int], Any]:
        if self.ready is not None:
            await self.ready
        assert self.judges is not None
        view = TaskJudges(self.judges, self.kinds)
        [jt] = await judge([task], self.by_task[task.name], gen, view)  # type: ignore[arg-type]
        return jt, view.errors, await self.score_fn(jt)

    async def finish(self, gen: Generation) -> list[tuple[JudgedTask, Any]]:
        """Every task judged and scored (those not started yet start now), in task order; judge
        error counts are added to the run's JudgeSet in task order."""
        assert self.judges is not None, "start(judges) first"
        try:
            for key in self.by_key:
                self.resolved(key, gen)  # keys generate did not report (a batch run)
            for stream in self.kinds.values():
                stream.flush()
            self.gen = gen
            for t in self.tasks:
                self._start(t.name)
            out = []
            for t in self.tasks:
                jt, errors, scored = await self.done[t.name]
                for k, n in errors.items():
                    self.judges.errors[k] = self.judges.errors.get(k, 0) + n
                out.append((jt, scored))
            return out
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """Stop whatever is still running (generation failed or was interrupted)."""
        pending = [f for f in self.done.values() if not f.done()]
        for stream in self.kinds.values():
            pending += list(stream.inflight)
            stream.cancel()
        for f in pending:
            f.cancel()
        await asyncio.gather(*pending, *self.done.values(), return_exceptions=True)
