"""Compare runs: paired tests on shared items, Holm adjustment, leaderboard (md + html + json).

    compare_runs(run_dirs, out_dir, *, allow_different_data=False) -> out_dir

For every pair of runs and every headline metric both computed, the items both runs share
(matched by task + item id) are compared through the metric's per-item outcome, read from the
`score` fields in samples.jsonl: the field (or its negation) whose mean over non-null values
reproduces the metric's value and n. Binary outcomes: McNemar's test (exact binomial below 25
discordant pairs) for the p-value and a paired bootstrap interval for the difference; numeric
outcomes: paired bootstrap for both. A metric no per-item field reproduces is compared unpaired
(z from the two runs' intervals; marked). p-values are Holm-adjusted across all tests of the
comparison (family-wise error rate 0.05).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
from markupsafe import Markup

from trustbench.errors import TrustbenchError
from trustbench.report.build import dimension_order, dimensions, frontier_point
from trustbench.report.rundir import RunData, load_run
from trustbench.scoring.paired import holm, mcnemar, paired_bootstrap

ALPHA = 0.05
ADJUSTMENT = "holm"
_TOL = 5e-5  # metric values may be rounded (trustllm mode rounds some to 4 digits)


def _check_same_data(runs: Sequence[RunData], allow_different_data: bool) -> list[str]:
    """Raise when the runs' dataset files differ (sha256), unless allowed; return notes."""
    notes: list[str] = []
    base = runs[0]
    for other in runs[1:]:
        for run in (base, other):
            if not isinstance(run.manifest.get("dataset_files"), dict):
                msg = f"{run.path / 'manifest.json'}: no dataset_files; cannot check that the runs used the same data"
                if not allow_different_data:
                    raise TrustbenchError(msg + " (pass --allow-different-data to compare anyway)")
                notes.append(msg)
        fa, fb = base.manifest.get("dataset_files") or {}, other.manifest.get("dataset_files") or {}
        for task in sorted(set(fa) & set(fb)):
            ha, hb = (fa[task] or {}).get("sha256"), (fb[task] or {}).get("sha256")
            if ha != hb:
                msg = (
                    f"runs {base.run_id} and {other.run_id} used different data for {task} "
                    f"(sha256 {str(ha)[:12]} vs {str(hb)[:12]})"
                )
                if not allow_different_data:
                    raise TrustbenchError(msg + "; pass --allow-different-data to compare anyway")
                notes.append(msg)
    return notes


def _outcomes(run: RunData) -> dict[str, dict[str, dict[str, Any]]]:
    """task -> item id -> score fields."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for s in run.iter_samples():
        score = s.get("score")
        out.setdefault(str(s["task"]), {})[str(s["id"])] = score if isinstance(score, dict) else {}
    return out


def _as_number(v: Any) -> float | None:
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, (int, float)) and math.isfinite(v):
        return float(v)
    return None


def metric_field(metric: dict[str, Any], key: str, items: dict[str, dict[str, Any]]) -> tuple[str, bool, bool] | None:
    """(field, negate, binary) such that mean(field or 1 - field) over non-null items = metric value with the same n."""
    value, n = metric.get("value"), metric.get("n")
    if value is None or not n or not items:
        return None
    fields: dict[str, list[float]] = {}
    binary: dict[str, bool] = {}
    for score in items.values():
        for f, v in score.items():
            x = _as_number(v)
            if x is None:
                if v is not None:
                    binary[f] = False
                    fields.setdefault(f, []).append(float("nan"))
                continue
            fields.setdefault(f, []).append(x)
            binary[f] = binary.get(f, True) and x in (0.0, 1.0)
    successes = metric.get("successes")
    candidates = sorted(fields, key=lambda f: (f != key, f))
    for f in candidates:
        vals = np.asarray(fields[f])
        if np.isnan(vals).any() or vals.size != n:
            continue
        mean = float(vals.mean())
        if binary.get(f):
            if successes is not None:  # a proportion: the counts must match exactly
                count = int(vals.sum())
                if count == successes and abs(mean - value) <= _TOL:
                    return f, False, True
                if n - count == successes and abs((1.0 - mean) - value) <= _TOL:
                    return f, True, True
                continue
            if min(abs(value), abs(1.0 - value)) <= _TOL:
                continue  # 0 or 1 (e.g. a macro-F1 of 0) matches any all-0 / all-1 field: ambiguous
            if abs(mean - value) <= _TOL:
                return f, False, True
            if abs((1.0 - mean) - value) <= _TOL:
                return f, True, True
        elif abs(mean - value) <= _TOL:
            return f, False, False
    return None


def _paired_values(
    items_a: dict[str, dict[str, Any]], items_b: dict[str, dict[str, Any]], field: str, negate: bool
) -> tuple[np.ndarray, np.ndarray]:
    a_vals, b_vals = [], []
    for item_id, sa in items_a.items():
        sb = items_b.get(item_id)
        if sb is None:
            continue
        xa, xb = _as_number(sa.get(field)), _as_number(sb.get(field))
        if xa is None or xb is None:
            continue
        if negate:
            xa, xb = 1.0 - xa, 1.0 - xb
        a_vals.append(xa)
        b_vals.append(xb)
    return np.asarray(a_vals), np.asarray(b_vals)


def _unpaired(ma: dict[str, Any], mb: dict[str, Any]) -> dict[str, Any] | None:
    if not ma.get("ci") or not mb.get("ci"):
        return None
    z = 1.959963984540054
    se_a = (ma["ci"][1] - ma["ci"][0]) / (2 * z)
    se_b = (mb["ci"][1] - mb["ci"][0]) / (2 * z)
    diff = mb["value"] - ma["value"]
    se = math.hypot(se_a, se_b)
    from scipy.stats import norm

    p = 1.0 if se == 0 else float(2 * norm.sf(abs(diff) / se))
    return {"diff": diff, "ci": [diff - z * se, diff + z * se], "p_value": p,
            "method": "unpaired z from the two intervals (no per-item outcome found; conservative for overlapping items)"}


def paired_tests(runs: Sequence[RunData], labels: Sequence[str], *, n_boot: int = 2000, seed: int = 0) -> list[dict[str, Any]]:
    outcomes = [_outcomes(r) for r in runs]
    tests: list[dict[str, Any]] = []
    for i, j in combinations(range(len(runs)), 2):
        ra, rb = runs[i], runs[j]
        for task in ra.tasks:
            if task not in rb.tasks:
                continue
            for key, ma in ra.tasks[task]["metrics"].items():
                mb = rb.tasks[task]["metrics"].get(key)
                if not ma.get("headline") or mb is None or ma.get("value") is None or mb.get("value") is None:
                    continue
                row: dict[str, Any] = {
                    "a": labels[i], "b": labels[j], "task": task, "metric": key,
                    "direction": ma.get("direction", "higher"),
                    "a_value": ma["value"], "b_value": mb["value"],
                }
                fa = metric_field(ma, key, outcomes[i].get(task, {}))
                fb = metric_field(mb, key, outcomes[j].get(task, {}))
                res: dict[str, Any] | None = None
                if fa and fb and fa == fb:
                    field, negate, binary = fa
                    a_vals, b_vals = _paired_values(outcomes[i][task], outcomes[j][task], field, negate)
                    row["n_shared"] = int(a_vals.size)
                    row["field"] = ("1 - " if negate else "") + field
                    if a_vals.size:
                        boot = paired_bootstrap(a_vals, b_vals, n_boot=n_boot, seed=seed)
                        res = {"diff": boot["diff"], "ci": boot["ci"], "p_value": boot["p_value"], "method": boot["method"]}
                        row["a_shared"], row["b_shared"] = float(a_vals.mean()), float(b_vals.mean())
                        if binary:
                            b01 = int(((a_vals == 0) & (b_vals == 1)).sum())
                            b10 = int(((a_vals == 1) & (b_vals == 0)).sum())
                            mc = mcnemar(b01, b10)
                            res["p_value"] = mc["p_value"]
                            res["method"] = f"{mc['method']} (b01={b01}, b10={b10}); diff interval: {boot['method']}"
                if res is None:
                    res = _unpaired(ma, mb)
                    row["n_shared"] = row.get("n_shared", 0)
                if res is None:
                    continue
                row.update(res)
                tests.append(row)
    adjusted = holm([t["p_value"] for t in tests])
    for t, p in zip(tests, adjusted, strict=True):
        t["p_holm"] = p
        t["significant"] = p < ALPHA
        oriented = t["diff"] if t["direction"] != "lower" else -t["diff"]
        t["better"] = (t["b"] if oriented > 0 else t["a"]) if t["significant"] and t["direction"] != "none" else None
    return tests


def leaderboard(runs: Sequence[RunData], labels: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Per dimension: runs ranked by dimension score (None last), with intervals."""
    dims_by_run = [dimensions(r) for r in runs]
    all_dims = dimension_order({d: 1 for dm in dims_by_run for d in dm})
    board: dict[str, list[dict[str, Any]]] = {}
    for dim in all_dims:
        rows = []
        for label, run, dm in zip(labels, runs, dims_by_run, strict=True):
            d = dm.get(dim) or {}
            rows.append({"label": label, "run_id": run.run_id, "score": d.get("score"), "ci": d.get("ci"), "n_metrics": d.get("n_metrics", 0)})
        if all(r["score"] is None for r in rows):
            continue
        rows.sort(key=lambda r: (r["score"] is None, -(r["score"] or 0.0)))
        for rank, r in enumerate(rows, 1):
            r["rank"] = rank if r["score"] is not None else None
        # runs whose interval overlaps the leader's are not clearly behind it
        top = rows[0]
        for r in rows:
            r["overlaps_leader"] = bool(r["ci"] and top["ci"] and r["ci"][1] >= top["ci"][0])
        board[dim] = rows
    return board


def _labels(runs: Sequence[RunData]) -> list[str]:
    models = [r.model for r in runs]
    labels = [m if models.count(m) == 1 else f"{m} ({r.run_id})" for m, r in zip(models, runs, strict=True)]
    if len(set(labels)) < len(labels):
        labels = [f"{lab} #{i + 1}" for i, lab in enumerate(labels)]
    return labels


def compare_runs(
    run_dirs: Sequence[Path | str],
    out_dir: Path | str,
    *,
    allow_different_data: bool = False,
    n_boot: int = 2000,
    seed: int = 0,
) -> Path:
    """Write leaderboard.md, leaderboard.html and comparison.json to `out_dir`; return `out_dir`."""
    if len(run_dirs) < 2:
        raise TrustbenchError("compare needs at least two run directories")
    runs = [load_run(d) for d in run_dirs]
    modes = {r.scoring for r in runs}
    if len(modes) > 1:
        raise TrustbenchError(
            "runs were scored in different modes (" + ", ".join(f"{r.run_id}: {r.scoring}" for r in runs) + "); rescore them with one --scoring"
        )
    notes = _check_same_data(runs, allow_different_data)
    labels = _labels(runs)
    tests = paired_tests(runs, labels, n_boot=n_boot, seed=seed)
    board = leaderboard(runs, labels)
    points = []
    for label, r in zip(labels, runs, strict=True):
        p = frontier_point(r)
        if p:
            p["label"] = label
            points.append(p)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise TrustbenchError(f"--out {out}: cannot create directory ({e.strerror or e})") from None
    data = {
        "runs": [{"label": lab, "run_id": r.run_id, "model": r.model, "path": str(r.path), "scoring": r.scoring,
                  "n_items": (r.results.get("summary") or {}).get("items")} for lab, r in zip(labels, runs, strict=True)],
        "adjustment": ADJUSTMENT,
        "alpha": ALPHA,
        "notes": notes,
        "leaderboard": board,
        "tests": tests,
        "frontier": points,
    }
    _write(out / "comparison.json", json.dumps(data, indent=2, ensure_ascii=False, default=str))
    _write(out / "leaderboard.md", _markdown(data))
    _write(out / "leaderboard.html", _html(data, runs, labels))
    return out


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise TrustbenchError(f"{path}: cannot write ({e.strerror or e})") from None


def _markdown(data: dict[str, Any]) -> str:
    from trustbench.report import md_env

    return md_env().get_template("leaderboard.md.j2").render(d=data)


def _html(data: dict[str, Any], runs: Sequence[RunData], labels: Sequence[str]) -> str:
    from trustbench.report import asset, html_env
    from trustbench.report.svg import PALETTE, frontier, metric_bar, radar

    dims = [dimensions(r) for r in runs]
    order = dimension_order({k: 1 for dm in dims for k in dm})
    series = [{"label": lab, "scores": dm} for lab, dm in zip(labels, dims, strict=True)]
    return html_env().get_template("leaderboard.html.j2").render(
        d=data,
        css=Markup(asset("style.css")),
        radar=radar(series, order, title="Dimension scores by run"),
        frontier=frontier(data["frontier"]) if data["frontier"] else Markup(""),
        palette=PALETTE,
        bar=metric_bar,
    )
