"""The offline embedder in a forked process while the model runs elsewhere.

Loading MiniLM means importing torch and sentence-transformers: ~6 s on 2 cores, held under the
interpreter lock, longer than the generation of a 2,400-item run. Forked before generation
starts, a worker process loads it on the other core while this process generates, then answers
the embedding batches (`WorkerJudge.answer`); caching, retries, re-asking and decoding stay here
(`CachedJudge`), as with Ray tasks (scale/remote_judge.py), so the verdicts are those of judging
in process: the same model, code and batches. If the worker cannot start, load or answer, the
batch is answered in process, where a genuine judge error is raised as before. Linux only (fork).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from trustbench.core.judge import CachedJudge, Query
from trustbench.engine.forked import ForkedWorker

KIND, SPECS = "embedding", ("minilm",)  # the judge sent to the worker: the offline embedder


def wants_worker(spec: str | None, planned_kinds: set[str]) -> bool:
    """Whether the run's embedder is worth a worker: MiniLM, and a task plans embeddings."""
    return KIND in planned_kinds and (spec or "").strip().partition(":")[0] in SPECS


def _setup(spec: str) -> Any:
    from trustbench.judges.registry import make_judge

    judge: Any = make_judge(KIND, spec)
    _ = judge.model  # torch, sentence-transformers and the weights, now

    def handle(job: tuple[Any, ...]) -> Any:
        queries, attempt = job
        return asyncio.run(judge.answer(queries, attempt))

    return handle


class JudgeWorker(ForkedWorker):
    """One forked process holding the embedder of `spec`; `answer` sends it a batch."""

    def __init__(self, spec: str):
        super().__init__(_setup, (spec,), "trustbench-judge")

    def attach(self, judges: Any) -> None:
        """Answer the run's embedding batches (JudgeSet `judges`) from this worker."""
        if judges.embedder is not None:
            judges.runners[KIND] = CachedJudge(WorkerJudge(judges.embedder, self), judges.cache)

    async def answer(self, queries: Sequence[Query], attempt: int) -> list[dict[str, Any]] | None:
        """The judge's answer records for one batch, or None (then answer in process)."""
        return await self.ask((list(queries), attempt))


class WorkerJudge:
    """`judge` with its `answer` from the worker (in process when the worker cannot); every
    other attribute (identity, cache keys, decoding, batching) is the judge's own."""

    def __init__(self, judge: Any, worker: JudgeWorker):
        self._judge, self.worker = judge, worker
        self.kind, self.name = judge.kind, judge.name

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._judge, attr)

    async def answer(self, queries: Sequence[Query], attempt: int) -> list[dict[str, Any]]:
        out = await self.worker.answer(queries, attempt)
        return out if out is not None else await self._judge.answer(queries, attempt)
