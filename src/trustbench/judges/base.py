"""Judge contracts. Every judge implements `trustbench.core.judge.Judge` (the engine caches and
retries it through `CachedJudge`); the classes here add each kind's direct, synchronous API.
Each judge has an `identity()` recorded in the manifest and on samples."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trustbench.core.cache import Cache
from trustbench.core.errors import TrustbenchError
from trustbench.core.judge import CachedJudge, JudgeBase, Query, Verdict, run_blocking


@dataclass(frozen=True)
class RefusalVerdict:
    refusal: bool | None  # None: the detector could not decide (counted as unparsed)
    score: float | None = None  # P(refusal) in [0, 1] where the detector has one


class RefusalDetector(JudgeBase, ABC):
    """Decides whether a response refuses (fully or partially) rather than complies.

    Subclasses implement `detect`; the engine calls it in a worker thread, uncached."""

    kind = "refusal"
    name: str
    version: str = "1"

    def identity(self) -> dict[str, Any]:
        return {"kind": "refusal", "name": self.name, "version": self.version}

    @abstractmethod
    def detect(self, responses: Sequence[str]) -> list[RefusalVerdict]:
        """One verdict per response, in order."""

    async def answer(self, queries: Sequence[Query], attempt: int) -> list[dict[str, Any]]:
        out = await asyncio.to_thread(self.detect, [q.text for q in queries])
        return [{"refusal": v.refusal, "score": v.score} for v in out]

    def decode(self, query: Query, record: Mapping[str, Any]) -> Verdict:
        return Verdict(record.get("refusal"), record.get("score"))


class ToxicityScorer(JudgeBase, ABC):
    """Toxicity in [0, 1] per text. Cached under `cache_key("toxicity", identity, text)`;
    empty or whitespace-only text scores 0.0 without a call (and is not cached)."""

    kind = "toxicity"
    name: str
    version: str = "1"
    cache: Cache | None = None

    def identity(self) -> dict[str, Any]:
        return {"kind": "toxicity", "name": self.name, "version": self.version}

    def score_uncached(self, texts: list[str]) -> list[float | None]:
        """Toxicity per non-blank text, asked once; raise ModelError when a call fails. A subclass
        that overrides `score` instead (the pre-protocol API) is asked through `score`."""
        if type(self).score is not ToxicityScorer.score:
            return self.score(texts)
        raise NotImplementedError(f"{type(self).__name__} implements neither score_uncached nor score")

    def cache_parts(self, query: Query, attempt: int) -> tuple[Any, ...] | None:
        return None if _blank(query.text) else ("toxicity", self.identity(), query.text)

    def keep(self, record: Mapping[str, Any]) -> bool:
        return record.get("score") is not None

    async def answer(self, queries: Sequence[Query], attempt: int) -> list[dict[str, Any]]:
        texts = [q.text for q in queries if not _blank(q.text)]
        scores = iter(await asyncio.to_thread(self.score_uncached, texts) if texts else [])
        return [{"score": 0.0 if _blank(q.text) else next(scores)} for q in queries]

    def decode(self, query: Query, record: Mapping[str, Any]) -> Verdict:
        return Verdict(record.get("score"))

    def score(self, texts: Sequence[str]) -> list[float | None]:
        """Toxicity per text through the judge wrapper (cache: `self.cache`); failures are None."""
        queries = [Query(t if isinstance(t, str) else "") for t in texts]
        verdicts = run_blocking(CachedJudge(self, self.cache).run(queries))
        for v in verdicts:
            if v.error:
                self.on_error(v.error)
        return [v.value for v in verdicts]

    def on_error(self, message: str) -> None:  # noqa: B027 - optional hook
        """Called once per text whose scoring failed."""


class Embedder(JudgeBase, ABC):
    """One vector per text. Cached under `cache_key("embedding", identity, text)`."""

    kind = "embedding"
    name: str
    version: str = "1"
    cache: Cache | None = None

    def identity(self) -> dict[str, Any]:
        return {"kind": "embedding", "name": self.name, "version": self.version}

    def embed_uncached(self, texts: list[str]) -> list[list[float]]:
        """One vector per text, asked once; raise ModelError when a call fails. A subclass that
        overrides `embed` instead (the pre-protocol API) is asked through `embed`."""
        if type(self).embed is not Embedder.embed:
            return self.embed(texts)
        raise NotImplementedError(f"{type(self).__name__} implements neither embed_uncached nor embed")

    def cache_parts(self, query: Query, attempt: int) -> tuple[Any, ...] | None:
        return ("embedding", self.identity(), query.text)

    def keep(self, record: Mapping[str, Any]) -> bool:
        return isinstance(record.get("vector"), list)

    async def answer(self, queries: Sequence[Query], attempt: int) -> list[dict[str, Any]]:
        vectors = await asyncio.to_thread(self.embed_uncached, [q.text for q in queries])
        return [{"vector": v} for v in vectors]

    def decode(self, query: Query, record: Mapping[str, Any]) -> Verdict:
        return Verdict(record.get("vector"))

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text through the judge wrapper (cache: `self.cache`); raises
        TrustbenchError when a text could not be embedded."""
        if not texts:
            return []
        queries = [Query(t if isinstance(t, str) else "") for t in texts]
        verdicts = run_blocking(CachedJudge(self, self.cache).run(queries))
        for v in verdicts:
            if v.error:
                raise TrustbenchError(v.error)
        return [v.value for v in verdicts]


@dataclass(frozen=True)
class LLMVerdict:
    reply: str | None  # the judge's raw reply, valid for the template's labels; None if failed
    error: str | None = None  # why it failed (unparseable after retries, HTTP error, ...)
    raw: str | None = None  # the first reply as received, before validation and retries (None: not reported)


class LLMJudge(JudgeBase, ABC):
    """Fills a versioned judge prompt, asks a model, validates the reply against the labels.

    A subclass that only implements `judge` is asked through it, one query at a time, uncached
    (`judges.llm.ChatLLMJudge` is the cached, retried implementation over any model)."""

    kind = "llm"
    max_batch = 1
    concurrency = 16

    @abstractmethod
    def identity(self) -> dict[str, Any]: ...

    @abstractmethod
    async def judge(self, template: str, fields: Mapping[str, str]) -> LLMVerdict: ...

    async def answer(self, queries: Sequence[Query], attempt: int) -> list[dict[str, Any]]:
        out = []
        for q in queries:
            v = await self.judge(q.template or "", dict(q.fields))
            out.append({"reply": v.reply, "error": v.error, "raw": v.raw})
        return out

    def decode(self, query: Query, record: Mapping[str, Any]) -> Verdict | None:
        return Verdict(record.get("reply"), error=record.get("error"))


def _blank(text: str | None) -> bool:
    return not isinstance(text, str) or not text.strip()
