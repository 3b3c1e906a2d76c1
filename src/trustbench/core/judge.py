"""The judge protocol, and `CachedJudge`: the one wrapper that caches and retries every judge.

A judge answers queries of one `kind` (`refusal`, `toxicity`, `embedding`, `llm`, or a plugin's
own). It only says how to ask once, uncached (`answer`), and how to read an answer (`decode`).
`CachedJudge` adds, the same way for every judge:

- the SQLite cache: the key is `cache_key(*judge.cache_parts(query, attempt))` (None: not cached),
  the value is the answer record itself, written as it arrives (only if `judge.keep(record)`);
- retries of transient errors (`ModelError(transient=True)`) with backoff, under the judge's
  `retry` policy and `concurrency` (the `Scheduler`);
- re-asking while an answer does not parse (`decode` returns None), up to `max_attempts` asks in
  all; the attempt number is passed to `cache_parts` and `answer`, so reruns replay the sequence;
- one call for identical queries, also across concurrent `run` calls;
- a `Verdict(None, error=...)` for a query that failed, never a silent None;
- the first answer's text as received (`Verdict.raw`: the record's `raw`, else its `reply`),
  before any re-asking: what a scorer that reads the judge's one reply verbatim (TrustLLM's
  rules) needs.

Optional judge attributes (read with defaults): `max_batch` (queries per `answer` call; None: all
at once), `concurrency` (batches in flight, 1), `max_attempts` (1), `retry` (a `RetryPolicy`;
default one try, no time limit), `scheduler` (a ready `Scheduler`), `cache_kind` (the cache row
kind; default `kind`), `keep(record)` (whether a record may be cached or replayed; default True).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeVar, runtime_checkable

from trustbench.core.cache import Cache, cache_key
from trustbench.core.errors import ModelError
from trustbench.core.scheduler import AdaptiveLimiter, RetryPolicy, Scheduler

T = TypeVar("T")
ONE_TRY = RetryPolicy(max_attempts=1, timeout=None)


@dataclass(frozen=True)
class Query:
    """What a judge is asked: a text (refusal, toxicity, embedding), or a template and its fields."""

    text: str = ""
    template: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    """A judge's answer to one query. The engine stores `value` as `Item.verdicts[key]`, `score`
    (where set) as `verdicts[key + "_score"]`, and `error` as the note saying why value is None."""

    value: Any = None
    score: float | None = None
    error: str | None = None
    raw: str | None = None  # the first answer's `reply` text as received (None: no text reply)


@runtime_checkable
class Judge(Protocol):
    """What the engine needs from a judge (see the module docstring for optional attributes)."""

    kind: str
    name: str

    def identity(self) -> dict[str, Any]:
        """What determines the verdicts (recorded in the manifest): never URLs or keys."""
        ...

    def cache_parts(self, query: Query, attempt: int) -> tuple[Any, ...] | None:
        """The parts of the cache key of this query at this attempt; None: do not cache."""
        ...

    async def answer(self, queries: Sequence[Query], attempt: int) -> list[dict[str, Any]]:
        """One JSON-able record per query, asked once; raises ModelError when the call fails."""
        ...

    def decode(self, query: Query, record: Mapping[str, Any]) -> Verdict | None:
        """The verdict a record holds; None when it does not parse (the query is asked again)."""
        ...


class JudgeBase:
    """Defaults for the optional parts of the protocol; built-in judges and plugins may subclass it."""

    kind: str = ""
    name: str = ""
    version: str = "1"
    max_batch: int | None = None
    concurrency: int = 1
    max_attempts: int = 1
    retry: RetryPolicy = ONE_TRY

    def identity(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "version": self.version}

    def cache_parts(self, query: Query, attempt: int) -> tuple[Any, ...] | None:
        return None

    def keep(self, record: Mapping[str, Any]) -> bool:
        return True

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Acquire resources (a model server, an HTTP client)."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release what `start` or `answer` acquired; safe to call twice."""


def _shown(record: Mapping[str, Any] | None) -> str:
    reply = record.get("reply") if record is not None else None
    text = reply if isinstance(reply, str) else json.dumps(record, ensure_ascii=False, default=str)
    return text if len(text) <= 120 else text[:117] + "..."


class CachedJudge:
    """Applies one judge to queries with caching, retries, re-asking and deduplication."""

    def __init__(self, judge: Judge, cache: Cache | None = None, scheduler: Scheduler | None = None):
        self.judge = judge
        self.cache = cache
        self.concurrency = max(1, int(getattr(judge, "concurrency", 1) or 1))
        self.max_attempts = max(1, int(getattr(judge, "max_attempts", 1) or 1))
        self.max_batch = getattr(judge, "max_batch", None)
        self.scheduler = scheduler or getattr(judge, "scheduler", None) or Scheduler(
            AdaptiveLimiter(initial=self.concurrency, maximum=self.concurrency, adaptive=False),
            getattr(judge, "retry", None) or ONE_TRY,
        )
        self._keep = getattr(judge, "keep", None) or (lambda record: True)
        self._inflight: dict[str, asyncio.Future[Verdict]] = {}
        self.hits = 0  # answers replayed from the cache
        self.unparseable = 0  # answers that did not parse
        self.failures = 0  # verdicts that ended with an error

    def key(self, query: Query, attempt: int) -> str | None:
        parts = self.judge.cache_parts(query, attempt)
        return None if parts is None else cache_key(*parts)

    async def run(self, queries: Sequence[Query]) -> list[Verdict]:
        """One verdict per query, in order."""
        keys = [self.key(q, 0) for q in queries]
        units: dict[Any, list[int]] = {}  # identical queries (same key) are asked once
        for i, k in enumerate(keys):
            units.setdefault(k if k is not None else ("solo", i), []).append(i)
        mine: list[list[int]] = []
        waits: list[tuple[list[int], asyncio.Future[Verdict]]] = []
        loop = asyncio.get_running_loop()
        for u in units.values():
            k = keys[u[0]]
            if k is not None and k in self._inflight:
                waits.append((u, self._inflight[k]))
            else:
                mine.append(u)
                if k is not None:
                    self._inflight[k] = loop.create_future()
        futures = [self._inflight.get(keys[u[0]]) if keys[u[0]] is not None else None for u in mine]
        try:
            got = await self._resolve([queries[u[0]] for u in mine], [keys[u[0]] for u in mine])
        except BaseException as e:
            for fut in futures:
                if fut is not None and not fut.done():
                    fut.set_exception(e)
                    fut.exception()  # mark retrieved
            raise
        finally:
            for u in mine:
                if keys[u[0]] is not None:
                    self._inflight.pop(keys[u[0]], None)
        out: list[Verdict | None] = [None] * len(queries)
        for u, fut, v in zip(mine, futures, got, strict=True):
            if fut is not None and not fut.done():
                fut.set_result(v)
            for i in u:
                out[i] = v
        for u, fut in waits:
            v = await asyncio.shield(fut)
            for i in u:
                out[i] = v
        return out  # type: ignore[return-value]

    async def _resolve(self, queries: list[Query], keys0: list[str | None]) -> list[Verdict]:
        verdicts: list[Verdict | None] = [None] * len(queries)
        last: dict[int, Mapping[str, Any]] = {}
        first: dict[int, str] = {}  # the first answer's reply text
        pending = list(range(len(queries)))
        for attempt in range(self.max_attempts):
            if not pending:
                break
            keys = {i: keys0[i] if attempt == 0 else self.key(queries[i], attempt) for i in pending}
            records: dict[int, Mapping[str, Any]] = {}
            if self.cache is not None:  # the cache is read and written in a thread: never on the event loop
                found = await asyncio.to_thread(self.cache.get_many, [k for k in keys.values() if k is not None])
                for i, k in keys.items():
                    if k is not None and k in found and self._keep(found[k]):
                        records[i] = found[k]
                        self.hits += 1
            errors: dict[int, str] = {}
            todo = [i for i in pending if i not in records]
            if todo:
                await self._ask(queries, todo, keys, attempt, records, errors)
            still = []
            for i in pending:
                if attempt == 0 and i in records:  # the reply as received: `raw` where a judge keeps it apart
                    reply = records[i].get("raw", records[i].get("reply"))
                    if isinstance(reply, str):
                        first[i] = reply
                if i in errors:
                    self.failures += 1
                    verdicts[i] = Verdict(None, error=errors[i])
                    continue
                v = self.judge.decode(queries[i], records[i])
                if v is None:
                    self.unparseable += 1
                    last[i] = records[i]
                    still.append(i)
                else:
                    verdicts[i] = v
            pending = still
        for i in pending:
            self.failures += 1
            verdicts[i] = Verdict(None, error=f"unparseable after {self.max_attempts} attempts: {_shown(last.get(i))!r}")
        return [replace(v, raw=first[i]) if i in first else v  # type: ignore[arg-type]
                for i, v in enumerate(verdicts)]

    async def _ask(
        self,
        queries: list[Query],
        todo: list[int],
        keys: Mapping[int, str | None],
        attempt: int,
        records: dict[int, Mapping[str, Any]],
        errors: dict[int, str],
    ) -> None:
        size = self.max_batch or len(todo)
        batches = [todo[i : i + size] for i in range(0, len(todo), size)]
        sem = asyncio.Semaphore(self.concurrency)
        kind = getattr(self.judge, "cache_kind", None) or self.judge.kind

        async def one(batch: list[int]) -> None:
            qs = [queries[i] for i in batch]
            async with sem:
                try:
                    out = await self.scheduler.call(lambda: self.judge.answer(qs, attempt))
                except ModelError as e:
                    for i in batch:
                        errors[i] = f"judge {self.judge.name}: {e.reason}"
                    return
            if len(out) != len(batch):
                raise RuntimeError(f"judge {self.judge.name}: {len(out)} answers for {len(batch)} queries")
            rows = []
            for i, rec in zip(batch, out, strict=True):
                records[i] = rec
                k = keys[i]
                if k is not None and self.cache is not None and self._keep(rec):
                    rows.append((k, dict(rec)))
            if rows and self.cache is not None:
                await asyncio.to_thread(self.cache.put_many, rows, kind=kind)  # the batch's answers in one commit

        tasks = [asyncio.ensure_future(one(b)) for b in batches]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise


def run_blocking(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, also when called inside a running loop
    (then on a private loop in a worker thread)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as ex:
        return ex.submit(asyncio.run, coro).result()
