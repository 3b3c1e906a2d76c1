"""Run judge requests over items: refusal, toxicity and embeddings in batches, LLM judges async."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from trustbench.judges.base import Embedder, LLMJudge, RefusalDetector, ToxicityScorer
from trustbench.tasks.base import Item, JudgeRequest, Task

NO_JUDGE = "no judge configured"


@dataclass
class JudgeSet:
    """The judges of one run; None where not configured."""

    refusal: RefusalDetector
    llm: LLMJudge | None = None
    embedder: Embedder | None = None
    toxicity: ToxicityScorer | None = None
    llm_concurrency: int = 16
    errors: dict[str, int] = field(default_factory=dict)

    def identities(self) -> dict[str, Any]:
        return {
            "refusal": self.refusal.identity(),
            "llm": self.llm.identity() if self.llm else None,
            "embedding": self.embedder.identity() if self.embedder else None,
            "toxicity": self.toxicity.identity() if self.toxicity else None,
        }

    def error_rates(self) -> dict[str, Any]:
        """Measured judge error per verdict key, for intervals that propagate it."""
        from trustbench.judges.refusal import measured_error_rates

        rates = measured_error_rates(self.refusal)
        return {"refusal": rates} if rates else {}

    async def aclose(self) -> None:
        """Stop what the LLM judge started (a managed server, an HTTP session)."""
        close = getattr(self.llm, "aclose", None)
        if close is not None:
            await close()

    def name_for(self, kind: str) -> str | None:
        judge = {"refusal": self.refusal, "llm": self.llm, "embedding": self.embedder, "toxicity": self.toxicity}[kind]
        return None if judge is None else judge.identity().get("name", judge.identity().get("model"))


@dataclass(frozen=True)
class _Slot:
    item_pos: int
    req: JudgeRequest


async def apply_judges(
    task: Task, items: Sequence[Item], judges: JudgeSet
) -> tuple[list[Item], list[dict[str, str]]]:
    """New items whose verdicts hold every planned judge result, and per-item notes
    ({verdict key: why it is None}) for verdicts that failed or had no judge."""
    verdicts: list[dict[str, Any]] = [dict(it.verdicts) for it in items]
    notes: list[dict[str, str]] = [{} for _ in items]
    slots = [
        _Slot(i, r)
        for i, it in enumerate(items)
        if it.response is not None
        for r in task.judges(it.record, it.response)
        if r.key not in it.verdicts  # frozen verdicts win
    ]
    await _run(slots, judges, verdicts, notes)
    items = [replace(it, verdicts=v) for it, v in zip(items, verdicts, strict=True)]
    if task.cross_judges is not None:
        pos = {it.id: i for i, it in enumerate(items)}
        cross = [_Slot(pos[iid], r) for iid, r in task.cross_judges(items) if r.key not in items[pos[iid]].verdicts]
        await _run(cross, judges, verdicts, notes)
        items = [replace(it, verdicts=v) for it, v in zip(items, verdicts, strict=True)]
    return list(items), notes


async def _run(slots: list[_Slot], judges: JudgeSet, verdicts: list[dict], notes: list[dict]) -> None:
    by_kind: dict[str, list[_Slot]] = {}
    for s in slots:
        by_kind.setdefault(s.req.kind, []).append(s)
    if s_ := by_kind.get("refusal"):
        out = await asyncio.to_thread(judges.refusal.detect, [s.req.text for s in s_])
        for s, v in zip(s_, out, strict=True):
            verdicts[s.item_pos][s.req.key] = v.refusal
            if v.score is not None:
                verdicts[s.item_pos][f"{s.req.key}_score"] = v.score
    batch_judges = (
        ("toxicity", judges.toxicity.score if judges.toxicity else None),
        ("embedding", judges.embedder.embed if judges.embedder else None),
    )
    for kind, fn in batch_judges:
        if s_ := by_kind.get(kind):
            if fn is None:
                _missing(s_, verdicts, notes, f"{NO_JUDGE} ({kind})")
                continue
            values = await asyncio.to_thread(fn, [s.req.text for s in s_])
            for s, v in zip(s_, values, strict=True):
                verdicts[s.item_pos][s.req.key] = v
    if s_ := by_kind.get("llm"):
        if judges.llm is None:
            _missing(s_, verdicts, notes, NO_JUDGE)
        else:
            sem = asyncio.Semaphore(judges.llm_concurrency)
            llm = judges.llm

            async def one(s: _Slot) -> None:
                async with sem:
                    v = await llm.judge(s.req.template or "", dict(s.req.fields))
                verdicts[s.item_pos][s.req.key] = v.reply
                if v.error:
                    notes[s.item_pos][s.req.key] = v.error
                    judges.errors[s.req.key] = judges.errors.get(s.req.key, 0) + 1

            await asyncio.gather(*(one(s) for s in s_))


def _missing(slots: list[_Slot], verdicts: list[dict], notes: list[dict], reason: str) -> None:
    for s in slots:
        verdicts[s.item_pos][s.req.key] = None
        notes[s.item_pos][s.req.key] = reason
