"""Heavy offline judges as Ray tasks (`--ray`): a judge's `answer` (the model work) runs as a
Ray task on the cluster; the cache, retries, re-asking and decoding stay on the driver
(`CachedJudge`), and the batches are the driver's, so the verdicts are those of driver-side
judging. The task rebuilds the judge from its spec once per Ray worker process."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from trustbench.core.judge import Query
from trustbench.scale.ray_cluster import import_ray

_JUDGES: dict[tuple[str, str], Any] = {}  # per Ray worker process: (kind, spec) -> judge
_TASK: Any = None


def _answer(kind: str, spec: str, queries: list[Query], attempt: int) -> list[dict[str, Any]]:
    """Runs on a Ray worker: the judge's answer records for one batch."""
    judge = _JUDGES.get((kind, spec))
    if judge is None:
        from trustbench.judges.registry import make_judge

        judge = _JUDGES[(kind, spec)] = make_judge(kind, spec)
    return asyncio.run(judge.answer(queries, attempt))


def _task() -> Any:
    global _TASK
    if _TASK is None:
        _TASK = import_ray().remote(num_cpus=1, max_retries=2)(_answer)
    return _TASK


class RayTaskJudge:
    """`judge` with its `answer` sent to the cluster; every other attribute is the judge's own."""

    def __init__(self, judge: Any, spec: str):
        self._judge, self.spec = judge, spec
        self.kind, self.name = judge.kind, judge.name
        self.calls = 0  # batches answered on the cluster

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._judge, attr)

    async def answer(self, queries: Sequence[Query], attempt: int) -> list[dict[str, Any]]:
        self.calls += 1
        return await _task().remote(self.kind, self.spec, list(queries), attempt)
