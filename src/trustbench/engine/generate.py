"""Generate step: every planned request answered from the cache or by the model (scheduled,
retried), each response committed to the cache as it arrives (group commits in one writer
thread, so the event loop never waits on the disk), and reported to `on_resolved` (the pipeline that judges
and scores tasks while the others generate)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from trustbench.core.cache import Cache, GroupWriter
from trustbench.engine.plan import Planned
from trustbench.core.scheduler import Scheduler
from trustbench.models.base import Model, ModelError


WAVE = 64  # calls queued at a time before the event loop runs again


class ProgressSink(Protocol):
    """What the generate step reports to; the CLI's progress bar is one (cli_progress.py)."""

    def advance(self, *, failed: bool = False, hit: bool = False, n: int = 1) -> None: ...


class NoProgress:
    def advance(self, *, failed: bool = False, hit: bool = False, n: int = 1) -> None:
        pass


class LateProgress:
    """Progress held until the display exists (`attach`), then forwarded: generation starts
    while the judges load, before the first line and the progress bar are shown."""

    def __init__(self) -> None:
        self.held: list[dict[str, Any]] = []
        self.sink: ProgressSink | None = None

    def advance(self, *, failed: bool = False, hit: bool = False, n: int = 1) -> None:
        if self.sink is None:
            self.held.append({"failed": failed, "hit": hit, "n": n})
        else:
            self.sink.advance(failed=failed, hit=hit, n=n)

    def attach(self, sink: ProgressSink) -> None:
        for kw in self.held:
            sink.advance(**kw)
        self.held.clear()
        self.sink = sink


@dataclass
class Generation:
    """Responses by cache key (from cache or model), errors by key, the keys fetched now, and
    how many planned items the cache answered."""

    responses: dict[str, dict[str, Any]]
    errors: dict[str, str] = field(default_factory=dict)
    fresh: set[str] = field(default_factory=set)
    cache_hits: int = 0


async def generate(
    planned: Sequence[Planned],
    model: Model,
    cache: Cache,
    scheduler: Scheduler,
    progress: ProgressSink | None = None,
    on_resolved: Callable[[str, Generation], None] | None = None,
    stored: dict[str, dict[str, Any]] | None = None,
) -> Generation:
    """Every planned request answered (or failed); `on_resolved(key, generation)` is called once
    per cache key as soon as its response (or error) is in the returned Generation: at once for
    cache hits, then as each call ends. `stored`: the cache's answers, when the caller read them."""
    progress = progress or NoProgress()
    resolved = on_resolved or (lambda key, gen: None)
    unique: dict[str, Planned] = {}
    for p in planned:
        unique.setdefault(p.key, p)
    stored = dict(stored) if stored is not None else cache.get_many(list(unique))
    hits = sum(1 for p in planned if p.key in stored)
    progress.advance(hit=True, n=hits)
    out = Generation(stored, cache_hits=hits)
    todo = [p for k, p in unique.items() if k not in stored]
    for k in list(stored):
        resolved(k, out)
    dupes: dict[str, int] = {}
    for p in planned:
        if p.key not in stored:
            dupes[p.key] = dupes.get(p.key, 0) + 1

    writer = GroupWriter(cache)

    async def one(p: Planned) -> None:
        try:
            completion = await scheduler.call(lambda: model.complete(p.messages, p.params))
        except ModelError as e:
            out.errors[p.key] = e.reason
            progress.advance(failed=True, n=dupes[p.key])
            resolved(p.key, out)
            return
        out.fresh.add(p.key)
        value = {"text": completion.text, "finish_reason": completion.finish_reason}
        await writer.put(p.key, value)  # committed before the item counts as done
        stored[p.key] = value
        progress.advance(n=dupes[p.key])
        resolved(p.key, out)

    tasks = []
    try:
        for i, p in enumerate(todo):
            tasks.append(asyncio.ensure_future(one(p)))
            if (i + 1) % WAVE == 0:
                await asyncio.sleep(0)  # queued in waves, the loop running between them: the first requests go out first
        await asyncio.gather(*tasks)
    except BaseException:  # a cache write failed, or Ctrl-C: stop the other calls before the model closes
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    finally:
        writer.close()  # responses already received are committed, also on Ctrl-C
    return out
