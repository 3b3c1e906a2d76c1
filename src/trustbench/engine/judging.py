"""Run judge requests over items: every judge kind the same way, through the judge wrapper
(`trustbench.core.judge.CachedJudge`: cache, retries, re-asking, deduplication)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from trustbench.core.judge import Query
from trustbench.judges.judgeset import BUILTIN_KINDS, JudgeSet
from trustbench.tasks.base import Item, JudgeRequest, Task, reply_key

NO_JUDGE = "no judge configured"

__all__ = ["NO_JUDGE", "JudgeSet", "apply_judges"]


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
    order = [k for k in BUILTIN_KINDS if k in by_kind] + sorted(k for k in by_kind if k not in BUILTIN_KINDS)
    for kind in order:
        s_ = by_kind[kind]
        runner = judges.runner(kind)
        if runner is None:
            _missing(s_, verdicts, notes, NO_JUDGE if kind == "llm" else f"{NO_JUDGE} ({kind})")
            continue
        out = await runner.run([Query(s.req.text, s.req.template, s.req.fields) for s in s_])
        for s, v in zip(s_, out, strict=True):
            verdicts[s.item_pos][s.req.key] = v.value
            if v.score is not None:
                verdicts[s.item_pos][f"{s.req.key}_score"] = v.score
            if v.error:
                notes[s.item_pos][s.req.key] = v.error
                judges.errors[s.req.key] = judges.errors.get(s.req.key, 0) + 1
            if kind == "llm" and v.raw is not None:  # an empty reply is None, as TrustLLM's get_res makes it
                verdicts[s.item_pos][reply_key(s.req.key)] = v.raw or None


def _missing(slots: list[_Slot], verdicts: list[dict], notes: list[dict], reason: str) -> None:
    for s in slots:
        verdicts[s.item_pos][s.req.key] = None
        notes[s.item_pos][s.req.key] = reason
