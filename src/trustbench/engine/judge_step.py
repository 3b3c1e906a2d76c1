"""Judge step: items built from the generation, every planned judge verdict filled in, and each
item's sample line (samples.jsonl, without its score)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from trustbench.engine.generate import Generation
from trustbench.engine.judging import JudgeSet, apply_judges
from trustbench.engine.plan import Planned
from trustbench.tasks.base import Item, Task


# The judges heavy enough to send to a Ray cluster, by kind: spec names (the part before ':').
HEAVY = {"refusal": {"minilm", "classifier", "hf"}, "embedding": {"minilm"},
         "toxicity": {"offline", "static-minilm-tfidf-logreg-tox"}}


def judges_on_ray(judges: JudgeSet, cfg: Any) -> dict[str, str]:
    """The one place that decides where judges run. With `--ray ADDRESS|auto` (Ray connected),
    the heavy offline judges answer as Ray tasks on the cluster, in the driver's batches, with
    the driver's cache; the cheap ones (ngram, keywords) and API judges stay on the driver, and
    so does everything under `--ray local` (the cluster is this machine). Returns {kind: spec} of
    the judges sent to the cluster."""
    if not cfg.ray or cfg.ray == "local":
        return {}
    from trustbench.scale.ray_cluster import import_ray

    if not import_ray().is_initialized():
        return {}
    from trustbench.core.judge import CachedJudge
    from trustbench.scale.remote_judge import RayTaskJudge

    specs = {"refusal": cfg.refusal_detector, "embedding": cfg.embedder, "toxicity": cfg.toxicity}
    moved = {}
    for kind, judge in judges.by_kind().items():
        spec = (specs.get(kind) or "").strip()
        if spec.partition(":")[0] in HEAVY.get(kind, ()):
            judges.runners[kind] = CachedJudge(RayTaskJudge(judge, spec), judges.cache)
            moved[kind] = spec
    return moved


@dataclass
class JudgedTask:
    """One task's judged items and their sample lines (same order)."""

    task: Task
    items: list[Item]
    lines: list[dict[str, Any]]


async def judge(tasks: Sequence[Task], planned: Sequence[Planned], gen: Generation, judges: JudgeSet) -> list[JudgedTask]:
    by_task: dict[str, list[Planned]] = {}
    for p in planned:
        by_task.setdefault(p.task.name, []).append(p)
    stored, errors = gen.responses, gen.errors
    out = []
    for task in tasks:
        ps = by_task.get(task.name, [])
        items = [
            Item(
                task=task.name,
                id=p.item_id,
                index=p.index,
                record=p.record,
                response=stored[p.key]["text"] if p.key in stored else None,
                error=errors.get(p.key) if p.key not in stored else None,
                verdicts=task.frozen(p.record),
            )
            for p in ps
        ]
        items, notes = await apply_judges(task, items, judges)
        names: dict[str, Any] = {}  # judge name by kind, asked once per task
        lines = [
            {
                "task": task.name,
                "id": it.id,
                "index": it.index,
                "messages": p.messages,
                "response": it.response,
                "error": it.error,
                "verdicts": jsonable_verdicts(it.verdicts),
                "verdict_notes": note or None,
                "judges": _judge_names(task, it, judges, names),
                "cached": p.key in stored and p.key not in gen.fresh,
            }
            for p, it, note in zip(ps, items, notes, strict=True)
        ]
        out.append(JudgedTask(task, items, lines))
    return out


def jsonable_verdicts(verdicts: Any) -> dict[str, Any]:
    """Embeddings are long: samples keep a short fingerprint of them, not the vector."""
    out = {}
    for k, v in verdicts.items():
        if isinstance(v, list) and len(v) > 16:
            out[k] = f"<vector dim={len(v)}>"
        else:
            out[k] = v
    return out


def _judge_names(task: Task, item: Item, judges: JudgeSet, by_kind: dict[str, Any]) -> dict[str, Any]:
    names: dict[str, Any] = {}
    if item.response is None:
        return names
    for r in task.judges(item.record, item.response):
        if r.kind not in by_kind:
            by_kind[r.kind] = judges.name_for(r.kind)
        names[r.key] = by_kind[r.kind]
    return names
