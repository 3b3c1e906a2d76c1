"""Write step: the manifest, results.json and samples.jsonl of a run directory (and, for a
shard, the judged items that `trustbench merge` re-scores)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trustbench import __version__
from trustbench.data.loader import TaskData
from trustbench.engine.config import RunConfig
from trustbench.engine.judge_step import JudgedTask
from trustbench.engine.plan import gen_params, suite_version
from trustbench.engine.rundir import RunWriter, atomic_write
from trustbench.models.base import Model

if TYPE_CHECKING:  # the score step brings numpy, which a run imports during generation
    from trustbench.engine.score_step import Scored

SHARD_ITEMS = "shard_items.jsonl"


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def default_out_dir(model_spec: str) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in model_spec)[:60]
    return Path("runs") / f"{stamp}-{safe}"


def build_manifest(cfg: RunConfig, out_dir: Path, root: Path, datasets: Sequence[TaskData], model: Model,
                   judges: Any) -> dict[str, Any]:
    from trustbench.engine.shard import parse_shard

    shard = parse_shard(cfg.shard) if cfg.shard is not None else None
    return {
        "trustbench_version": __version__,
        "run_id": out_dir.name,
        "started_at": now(),
        "ended_at": None,
        "suite": {"name": cfg.suite, "version": suite_version(cfg.suite), "root": str(root)},
        "dataset_files": {
            d.task.name: {"path": str(d.path), "sha256": d.sha256, "records": len(d.records)} for d in datasets
        },
        "tasks": [d.task.name for d in datasets],
        "model": {"spec": cfg.model, "identity": model.identity(), "info": None},
        "generation": {
            d.task.name: {**gen_params(d.task, cfg).to_dict(), "system_prompt": cfg.system_prompt}
            for d in datasets
        },
        "seed": cfg.seed,
        "limit": cfg.limit,
        "sample": cfg.sample,
        "scoring": cfg.scoring,
        "judges": {**judges.identities(), "measured_error": judges.error_rates()},
        "command": scrub_argv(cfg.argv),
        "n_boot": cfg.n_boot,
        "shard": {"index": shard[0], "count": shard[1]} if shard else None,
    }


def results_doc(scoring: str, scored: Scored, summary: dict[str, Any]) -> dict[str, Any]:
    return {"scoring": scoring, "tasks": scored.tasks, "dimensions": scored.dimensions, "summary": summary}


def write_run(writer: RunWriter, manifest: dict[str, Any], results: dict[str, Any], scored: Scored,
              judged: Sequence[JudgedTask] | None = None) -> None:
    """samples, results, then the manifest (its ended_at marks a complete run directory)."""
    manifest["ended_at"] = now()
    if scored.sample_text is not None:
        writer.write_sample_text(scored.sample_text)
    else:
        writer.write_samples(scored.samples)
    writer.write_results(results)
    if judged is not None:
        write_shard_items(writer.dir / SHARD_ITEMS, judged)
    writer.write_manifest(manifest)


def write_shard_items(path: Path, judged: Sequence[JudgedTask]) -> None:
    """Each judged item in full (record and verdicts, embeddings included) with its sample line."""
    rows = (
        json.dumps({"record": it.record, "verdicts": dict(it.verdicts), "line": line}, ensure_ascii=False, default=str)
        for jt in judged
        for it, line in zip(jt.items, jt.lines, strict=True)
    )
    atomic_write(path, "".join(r + "\n" for r in rows))


def scrub_argv(argv: list[str]) -> list[str]:
    """Command line for the manifest, with anything that looks like a key removed."""
    out = []
    for a in argv:
        low = a.lower()
        out.append("***" if ("key" in low and "=" in a) or low.startswith("sk-") else a)
    return out
