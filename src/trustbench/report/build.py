"""Turn a run directory into the numbers every report format shows (the view model)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trustbench.report.rundir import RunData
from trustbench.report.sample_rows import SampleBlob, sample_rows
from trustbench.scoring.intervals import wilson_interval
from trustbench.scoring.summary import DIMENSION_DEFINITION, dimension_entries
from trustbench.tasks.base import DIMENSIONS


def dimensions(run: RunData) -> dict[str, dict[str, Any]]:
    """results.json's dimension scores, or recomputed from its task metrics when absent."""
    dims = run.results.get("dimensions")
    if dims:
        return dims
    entries = [
        (t.get("dimension") or name.split("/")[0], name, key, m)
        for name, t in run.tasks.items()
        for key, m in t["metrics"].items()
    ]
    return dimension_entries(entries)


def dimension_order(dims: Mapping[str, Any]) -> list[str]:
    return list(DIMENSIONS) + sorted(d for d in dims if d not in DIMENSIONS)


def _count(metrics: Mapping[str, Any], keys: tuple[str, ...], complement_keys: tuple[str, ...]) -> tuple[int, int] | None:
    """(refusals, n) from the first refusal-rate metric present (or its complement)."""
    for k in keys:
        m = metrics.get(k)
        if m and m.get("successes") is not None and m.get("n"):
            return int(m["successes"]), int(m["n"])
    for k in complement_keys:
        m = metrics.get(k)
        if m and m.get("successes") is not None and m.get("n"):
            return int(m["n"]) - int(m["successes"]), int(m["n"])
    return None


def frontier_point(run: RunData) -> dict[str, Any] | None:
    """x = refusal rate on the safe-prompt tasks, y = compliance rate on the harmful-prompt tasks,
    each pooled over its tasks: the registered tasks that set `Task.refusal_rate` (built-in: x
    exaggerated_safety; y misuse + jailbreak).

    Both from the refusal-rate metrics' counts (either scoring mode), with Wilson intervals.
    None when the run lacks every safe-prompt task or every harmful-prompt task.
    """
    from trustbench.tasks.registry import tasks_for

    tasks = run.tasks
    found: dict[str, list[tuple[str, tuple[int, int]]]] = {"safe": [], "harmful": []}
    for name, task in tasks_for(tasks).items():
        rr = task.refusal_rate
        if rr is None:
            continue
        c = _count(tasks.get(name, {}).get("metrics", {}), rr.keys, rr.complement_keys)
        if c:
            found[rr.prompts].append((name, c))
    safe, harmful = found["safe"], found["harmful"]
    if not safe or not harmful:
        return None
    refused = sum(k for _, (k, _) in safe)
    n_ex = sum(n for _, (_, n) in safe)
    complied = sum(n - k for _, (k, n) in harmful)
    n_h = sum(n for _, (_, n) in harmful)
    return {
        "label": run.model,
        "run_id": run.run_id,
        "x": refused / n_ex,
        "x_ci": list(wilson_interval(refused, n_ex)),
        "x_n": n_ex,
        "x_tasks": [name for name, _ in safe],
        "y": complied / n_h,
        "y_ci": list(wilson_interval(complied, n_h)),
        "y_n": n_h,
        "y_tasks": [name for name, _ in harmful],
    }


def task_rows(run: RunData) -> list[dict[str, Any]]:
    """Tasks in dimension order, each with its metric rows."""
    order = {d: i for i, d in enumerate(DIMENSIONS)}
    rows = []
    for name, t in run.tasks.items():
        dim = t.get("dimension") or name.split("/")[0]
        metrics = []
        for key, m in t["metrics"].items():
            total, parsed = m.get("total") or 0, m.get("parsed") or 0
            metrics.append({
                "key": key,
                "value": m.get("value"),
                "ci": m.get("ci"),
                "ci_method": m.get("ci_method"),
                "n": m.get("n"),
                "total": total,
                "parsed": parsed,
                "unparsed": total - parsed,
                "coverage": m.get("coverage", (parsed / total) if total else None),
                "direction": m.get("direction", "higher"),
                "headline": bool(m.get("headline")),
                "description": m.get("description") or "",
                "reason": m.get("reason"),
                "judge_adjusted": (m.get("extra") or {}).get("ci_judge_adjusted"),
                "note": (m.get("extra") or {}).get("ci_note"),
            })
        covs = [x["coverage"] for x in metrics if x["coverage"] is not None]
        rows.append({
            "name": name,
            "dimension": dim,
            "description": t.get("description") or "",
            "n_items": t.get("n_items"),
            "n_failed": t.get("n_failed") or 0,
            "min_coverage": min(covs) if covs else None,
            "metrics": metrics,
        })
    rows.sort(key=lambda r: (order.get(r["dimension"], len(order)), r["dimension"]))
    return rows


def collect_samples(run: RunData, *, rows: bool = True) -> dict[str, Any]:
    """The sample browser's data (SampleBlob.finish): the blob the run made as it scored
    (`run.sample_blob`), else one pass over samples.jsonl."""
    if run.sample_blob is not None:
        return run.sample_blob.finish()
    blob = SampleBlob()
    blob.put(0, sample_rows(run.iter_samples(), rows=rows))
    return blob.finish()


def _ci_methods(dim_rows: list[dict[str, Any]]) -> list[str]:
    """The dimension-interval method once, plus which dimensions had metrics without an interval."""
    base: set[str] = set()
    notes = []
    for r in dim_rows:
        method = str(r.get("ci_method") or "")
        if not method:
            continue
        head, sep, tail = method.rpartition("; ")
        base.add(head if sep and "without an interval" in tail else method)
        if sep and "without an interval" in tail:
            notes.append(f"{r.get('name', r.get('dimension', '?'))}: {tail}")
    return sorted(base) + notes


def build_view(run: RunData, *, with_samples: bool = True) -> dict[str, Any]:
    dims = dimensions(run)
    order = dimension_order(dims)
    dim_rows = []
    for d in order:
        info = dims.get(d)
        dim_rows.append({"name": d, **(info or {"score": None, "ci": None, "n_metrics": 0, "metrics": [], "reason": "no tasks of this dimension in the run"})})
    definitions = sorted({str(r.get("definition")) for r in dim_rows if r.get("definition")}) or [DIMENSION_DEFINITION]
    samples = collect_samples(run, rows=with_samples) if run.samples_path else None
    tasks = task_rows(run)
    for t in tasks:
        t["unparsed_verdicts"] = (samples or {}).get("unparsed", {}).get(t["name"], {})
    summary = dict(run.results.get("summary") or {})
    return {
        "run_id": run.run_id,
        "model": run.model,
        "scoring": run.scoring,
        "manifest": run.manifest,
        "summary": summary,
        "dimensions": dim_rows,
        "definitions": definitions,
        "ci_methods": _ci_methods(dim_rows),
        "tasks": tasks,
        "frontier": frontier_point(run),
        "samples": samples,
    }
