"""`ChatJudge`: a judge that asks a chat model one question per query.

Shared by the LLM judge (`--judge`, `judges.llm.ChatLLMJudge`) and the `llm:` refusal detector
(`judges.llm_refusal.LLMRefusalDetector`): subclasses say how to write the question (`messages`),
how to read the reply (`parse`) and what goes in the cache key (`cache_parts`); caching,
retries of transport errors, re-asking on an unparseable reply and deduplication are the judge
wrapper's (`trustbench.core.judge.CachedJudge`), applied the same way as to every other judge.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from trustbench.core.cache import Cache
from trustbench.core.judge import CachedJudge, JudgeBase, Query, Verdict
from trustbench.core.scheduler import AdaptiveLimiter, RetryPolicy, Scheduler
from trustbench.models.base import GenParams, Model


class ChatJudge(JudgeBase, ABC):
    """One chat completion per query (`max_batch` 1), `max_attempts` asks while unparseable.

    With `manage=True` the judge starts its model on first use and stops it in `aclose`;
    otherwise the caller owns the model's lifecycle."""

    max_batch = 1
    cache_kind = "judge"  # the cache rows' kind column, as before the judge protocol

    def __init__(
        self,
        model: Model,
        cache: Cache | None = None,
        scheduler: Scheduler | None = None,
        *,
        params: GenParams,
        max_attempts: int = 3,
        concurrency: int = 16,
        manage: bool = True,
    ):
        self.model = model
        self.params = params
        self.max_attempts = max(1, max_attempts)
        self.concurrency = max(1, concurrency)
        self.manage = manage
        self.scheduler = scheduler or Scheduler(AdaptiveLimiter(initial=8, maximum=64), RetryPolicy(timeout=120.0))
        self._started = False
        self._start_lock: asyncio.Lock | None = None
        self.requests = 0  # model calls made (cache misses, transport retries included)
        self.runner = CachedJudge(self, cache)  # for the direct API (`judge`, `detect`)

    @property
    def cache_hits(self) -> int:
        return self.runner.hits

    @property
    def unparseable(self) -> int:
        return self.runner.unparseable

    @property
    def failures(self) -> int:
        return self.runner.failures

    @abstractmethod
    def messages(self, query: Query, attempt: int) -> list[dict[str, str]]:
        """The chat messages asking `query` at this attempt."""

    @abstractmethod
    def parse(self, query: Query, reply: str) -> Verdict | None:
        """The verdict in a reply; None when it does not parse."""

    def record(self, query: Query, reply: str, attempt: int) -> dict[str, Any]:
        """What the cache stores for a reply (parseable or not)."""
        return {"reply": reply}

    def keep(self, record: Mapping[str, Any]) -> bool:
        return isinstance(record.get("reply"), str)

    def decode(self, query: Query, record: Mapping[str, Any]) -> Verdict | None:
        return self.parse(query, record["reply"])

    async def answer(self, queries: Sequence[Query], attempt: int) -> list[dict[str, Any]]:
        if self.manage and not self._started:
            await self.start()
        out = []
        for q in queries:
            self.requests += 1
            completion = await self.model.complete(self.messages(q, attempt), self.params)
            out.append(self.record(q, completion.text, attempt))
        return out

    async def start(self) -> None:
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            if not self._started:
                await self.model.start()
                self._started = True

    async def aclose(self) -> None:
        if self._started:
            self._started = False
            await self.model.aclose()

    async def __aenter__(self) -> ChatJudge:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
