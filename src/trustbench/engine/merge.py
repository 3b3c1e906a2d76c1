"""`trustbench merge`: join the run directories of shards 0..N-1 of one plan into one run directory.

Each shard directory holds its judged items in full (shard_items.jsonl). Merge checks that the
shards share one plan (the same manifest apart from the shard and what differs per machine or
run), that every shard 0..N-1 is there exactly once, and that every item sits in the shard its
unit hashes to; then it scores all items together with the plan's scoring mode, seed and
bootstrap size, so results.json equals an unsharded run's on the same responses.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from trustbench.engine.judge_step import JudgedTask
from trustbench.engine.rundir import RunWriter, read_json
from trustbench.engine.score_step import score
from trustbench.engine.shard import unit_shard
from trustbench.engine.write import SHARD_ITEMS, results_doc, scrub_argv, write_run
from trustbench.errors import TrustbenchError
from trustbench.tasks.base import Item
from trustbench.tasks.registry import all_tasks

# Manifest fields that may differ between the shards of one plan.
PER_RUN = ("run_id", "started_at", "ended_at", "command", "shard", "merged_from", "replicas", "replica_stats")


def plan_fingerprint(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest without per-run and per-machine fields (paths, server details)."""
    m = {k: v for k, v in manifest.items() if k not in PER_RUN}
    m["suite"] = {k: v for k, v in (m.get("suite") or {}).items() if k != "root"}
    m["dataset_files"] = {t: {k: v for k, v in f.items() if k != "path"} for t, f in (m.get("dataset_files") or {}).items()}
    m["model"] = {k: v for k, v in (m.get("model") or {}).items() if k != "info"}
    return m


def _first_difference(a: dict[str, Any], b: dict[str, Any]) -> str:
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            return k
    return "?"


def read_shard(d: Path) -> tuple[dict[str, Any], tuple[int, int]]:
    if not d.is_dir():
        raise TrustbenchError(f"{d}: not a directory")
    m = read_json(d / "manifest.json")
    shard = m.get("shard") if isinstance(m, dict) else None
    if not isinstance(shard, dict):
        raise TrustbenchError(f"{d}: not a shard run directory (run it with --shard I/N)")
    if not m.get("ended_at") or not (d / SHARD_ITEMS).is_file():
        raise TrustbenchError(f"{d}: shard {shard.get('index')}/{shard.get('count')} did not finish; rerun it to complete it")
    return m, (int(shard["index"]), int(shard["count"]))


def check_shards(dirs: list[Path]) -> list[dict[str, Any]]:
    """Manifests of the shards in shard order; a one-line error if they are not one whole plan."""
    if not dirs:
        raise TrustbenchError("merge: give the run directories of the shards")
    read = [(d, *read_shard(d)) for d in dirs]
    d0, m0, (_, n0) = read[0]
    fp0 = plan_fingerprint(m0)
    seen: dict[int, Path] = {}
    for d, m, (i, n) in read:
        if n != n0:
            raise TrustbenchError(f"{d}: shard {i}/{n} is not one of {n0} shards like {d0}")
        fp = plan_fingerprint(m)
        if fp != fp0:
            raise TrustbenchError(f"{d}: not the same plan as {d0} (manifest differs in {_first_difference(fp, fp0)!r})")
        if i in seen:
            raise TrustbenchError(f"{d}: shard {i}/{n} given twice (also {seen[i]})")
        seen[i] = d
    missing = [f"{i}/{n0}" for i in range(n0) if i not in seen]
    if missing:
        raise TrustbenchError(f"merge: shard(s) {', '.join(missing)} missing")
    return [m for _, m, _ in sorted(read, key=lambda r: r[2][0])]


def _load_items(d: Path, shard: tuple[int, int], tasks: dict[str, Any]) -> list[tuple[Item, dict[str, Any]]]:
    out = []
    path = d / SHARD_ITEMS
    for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            row = json.loads(text)
            line, record = row["line"], row["record"]
            task = tasks[line["task"]]
        except (ValueError, KeyError, TypeError):
            raise TrustbenchError(f"{path}: line {n}: not a shard item (or an unknown task)") from None
        index = int(line["index"])
        unit = (task.unit or (lambda r, i: str(i)))(record, index)
        if unit_shard(task.name, unit, shard[1]) != shard[0]:
            raise TrustbenchError(f"{path}: line {n}: {task.name} item {line['id']} does not belong to shard {shard[0]}/{shard[1]}")
        item = Item(task=task.name, id=line["id"], index=index, record=record, response=line["response"],
                    error=line["error"], verdicts=row.get("verdicts") or {})
        out.append((item, line))
    return out


def merge_runs(dirs: list[Path], out: Path, argv: list[str] | None = None) -> dict[str, Any]:
    """Write the merged run directory `out`; returns its results."""
    dirs = [Path(d) for d in dirs]
    if any(Path(out).resolve() == d.resolve() for d in dirs):
        raise TrustbenchError(f"--out {out}: is one of the shard directories; choose a new directory")
    manifests = check_shards(dirs)
    by_index = {int(m["shard"]["index"]): d for d, m in ((d, read_json(d / "manifest.json")) for d in dirs)}
    m0 = manifests[0]
    registry = all_tasks()
    names = list(m0.get("tasks") or [])
    unknown = [t for t in names if t not in registry]
    if unknown:
        raise TrustbenchError(f"merge: unknown task {unknown[0]!r} in {by_index[0] / 'manifest.json'}")
    rows: dict[str, dict[int, tuple[Item, dict[str, Any]]]] = {t: {} for t in names}
    count = int(m0["shard"]["count"])
    for i in range(count):
        for item, line in _load_items(by_index[i], (i, count), registry):
            if item.task not in rows:
                raise TrustbenchError(f"{by_index[i]}: task {item.task} is not in the plan")
            if item.index in rows[item.task]:
                raise TrustbenchError(f"{by_index[i]}: {item.task} item {item.id} also in another shard (overlapping shards)")
            rows[item.task][item.index] = (item, line)
    judged = []
    for name in names:
        pairs = [rows[name][k] for k in sorted(rows[name])]
        judged.append(JudgedTask(registry[name], [p[0] for p in pairs], [p[1] for p in pairs]))
    mode = m0.get("scoring", "corrected")
    scored = score(judged, mode, seed=int(m0.get("seed", 0)), n_boot=int(m0.get("n_boot", 200)),
                   judge_error=(m0.get("judges") or {}).get("measured_error") or {})
    results_list = [read_json(by_index[i] / "results.json") for i in range(count)]
    summary = _sum_summaries([r.get("summary", {}) for r in results_list])
    summary["items"] = len(scored.samples)
    summary["failed"] = sum(1 for s in scored.samples if s["response"] is None)
    manifest = {
        **{k: v for k, v in m0.items() if k not in ("replicas", "replica_stats")},
        "run_id": Path(out).name,
        "started_at": min(m["started_at"] for m in manifests),
        "shard": None,
        "merged_from": [{"dir": str(by_index[i]), "run_id": manifests[i].get("run_id"), "shard": f"{i}/{count}",
                         "started_at": manifests[i].get("started_at"), "ended_at": manifests[i].get("ended_at"),
                         **({"replicas": manifests[i]["replicas"], "replica_stats": manifests[i].get("replica_stats")}
                            if "replicas" in manifests[i] else {})}
                        for i in range(count)],
        "command": scrub_argv(argv or ["trustbench", "merge"]),
    }
    results = results_doc(mode, scored, summary)
    write_run(RunWriter(Path(out)), manifest, results, scored)
    return results


def _sum_summaries(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"items": 0, "failed": 0, "cache_hits": 0, "model_calls": 0, "retries": 0, "judge_errors": {}}
    for s in summaries:
        for k in ("cache_hits", "model_calls", "retries"):
            out[k] += int(s.get(k) or 0)
        for k, v in (s.get("judge_errors") or {}).items():
            out["judge_errors"][k] = out["judge_errors"].get(k, 0) + int(v)
    return out
