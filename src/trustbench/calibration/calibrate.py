"""`trustbench judge calibrate`: measure a run's judges on labels of that run, use those rates.

1. Read the labels (labels.py); per judge, the confusion matrix of its verdicts against the labels
   (positive = the verdict key holds, e.g. refusal) with Wilson intervals for sensitivity,
   specificity and agreement.
2. Refuse (one line, nothing written) when a judge has fewer than MIN_LABELLED labelled items, fewer
   than MIN_PER_CLASS of either class, or sensitivity + specificity <= 1 (no correction possible).
3. Record it in manifest.json (`judge_calibration`), re-run the Rogan-Gladen judge-error adjustment
   of results.json with these rates instead of the shipped pooled ones
   (`scoring.judge_error.judge_adjusted_metrics`, same seed as the run), and re-render the report.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trustbench.calibration.audit import SAMPLING
from trustbench.calibration.judged import judged_items
from trustbench.calibration.labels import Label, read_labels
from trustbench.engine.rundir import atomic_write
from trustbench.errors import TrustbenchError
from trustbench.report.rundir import RunData, load_run
from trustbench.scoring.metric import Metric
from trustbench.scoring.intervals import DEFAULT_CONF, wilson_interval
from trustbench.scoring.judge_error import judge_adjusted_metrics
from trustbench.tasks.base import Item

MIN_LABELLED = 30
MIN_PER_CLASS = 5
METHOD = (
    "confusion matrix of the judge's verdicts against the labels (positive = the verdict key holds, e.g. "
    "refusal; unlabelled / skipped lines left out and counted); sensitivity = tp / (tp + fn), specificity = "
    "tn / (tn + fp), agreement = (tp + tn) / n, each with a Wilson {conf:g} interval. Results: the Rogan-Gladen "
    "adjustment of every rate built on the verdict is recomputed with these counts (Monte Carlo over Jeffreys "
    "posteriors, the run's seed)"
)


@dataclass(frozen=True)
class Calibration:
    judges: dict[str, dict[str, Any]]
    metrics_adjusted: int
    written: list[Path]

    def summary(self) -> list[str]:
        lines = []
        for name, j in self.judges.items():
            rates = "; ".join(f"{k} {j[k]['value']:.3f} [{j[k]['ci'][0]:.3f}, {j[k]['ci'][1]:.3f}]"
                              for k in ("sensitivity", "specificity", "agreement"))
            lines.append(f"{name} ({j['verdict_key']}): n={j['n']} tp={j['tp']} fp={j['fp']} fn={j['fn']} tn={j['tn']}; {rates}")
        lines.append(f"{self.metrics_adjusted} metric(s) re-adjusted; wrote {', '.join(p.name for p in self.written)}")
        return lines


def _rate(k: int, n: int, conf: float) -> dict[str, Any]:
    if n == 0:
        return {"value": None, "k": 0, "n": 0, "ci": None}
    return {"value": k / n, "k": k, "n": n, "ci": list(wilson_interval(k, n, conf))}


def confusion(labels: Sequence[Label], conf: float = DEFAULT_CONF) -> dict[str, dict[str, Any]]:
    """Per judge: tp/fp/fn/tn over labelled lines, sensitivity, specificity, agreement, per task."""
    out: dict[str, dict[str, Any]] = {}
    for lab in labels:
        it = lab.item
        j = out.setdefault(it.judge, {"verdict_key": it.key, "n": 0, "unlabelled": 0,
                                      "tp": 0, "fp": 0, "fn": 0, "tn": 0, "by_task": {}})
        if j["verdict_key"] != it.key:
            raise TrustbenchError(f"judge {it.judge!r} gives two yes/no verdicts ({j['verdict_key']}, {it.key}); "
                                  "calibrate one verdict key per judge")
        if lab.label is None:
            j["unlabelled"] += 1
            continue
        cell = ("t" if lab.label == it.verdict else "f") + ("p" if it.verdict else "n")
        j[cell] += 1
        j["n"] += 1
        task = j["by_task"].setdefault(it.task, {"tp": 0, "fp": 0, "fn": 0, "tn": 0})
        task[cell] += 1
    for j in out.values():
        tp, fp, fn, tn = j["tp"], j["fp"], j["fn"], j["tn"]
        j["sensitivity"] = _rate(tp, tp + fn, conf)
        j["specificity"] = _rate(tn, tn + fp, conf)
        j["agreement"] = _rate(tp + tn, j["n"], conf)
    return out


def check_minimum(path: Path, judges: dict[str, dict[str, Any]]) -> None:
    """Raise (one line naming the file and judge) when a judge's labels cannot calibrate it."""
    for name, j in judges.items():
        pos, neg = j["tp"] + j["fn"], j["tn"] + j["fp"]
        if j["n"] < MIN_LABELLED or pos < MIN_PER_CLASS or neg < MIN_PER_CLASS:
            raise TrustbenchError(
                f"--labels {path}: judge {name!r}: {j['n']} items labelled ({pos} {j['verdict_key']}, {neg} not, "
                f"{j['unlabelled']} unlabelled); calibration needs at least {MIN_LABELLED} with at least "
                f"{MIN_PER_CLASS} of each class (label more items, or audit a larger --n)"
            )
        sens, spec = j["sensitivity"]["value"], j["specificity"]["value"]
        if sens + spec <= 1.0:
            raise TrustbenchError(
                f"--labels {path}: judge {name!r}: sensitivity {sens:.3f} + specificity {spec:.3f} <= 1 on these "
                "labels (no better than chance): its error cannot be corrected for"
            )


def _metric(d: dict[str, Any]) -> Metric:
    names = {f.name for f in dataclasses.fields(Metric)}
    kw = {k: v for k, v in d.items() if k in names}
    if kw.get("ci") is not None:
        kw["ci"] = tuple(kw["ci"])
    kw["extra"] = dict(kw.get("extra") or {})
    return Metric(**kw)


def readjust(results: dict[str, Any], run: RunData, judge_error: dict[str, Any], *, seed: int, source: str) -> int:
    """Recompute `ci_judge_adjusted` of results' metrics (in place) for these verdict keys; how many."""
    items: dict[str, list[Item]] = {}
    for s in run.iter_samples():
        task = str(s["task"])
        items.setdefault(task, []).append(Item(
            task=task, id=str(s["id"]), index=int(s.get("index") or 0), record={},
            response=s.get("response"), verdicts=s.get("verdicts") or {},
        ))
    count = 0
    for name, t in results["tasks"].items():
        dicts = t["metrics"]
        for d in dicts.values():  # drop the adjustments made with the rates being replaced
            extra = d.get("extra") or {}
            if (extra.get("ci_judge_adjusted") or {}).get("verdict") in judge_error:
                d["extra"] = {k: v for k, v in extra.items() if k != "ci_judge_adjusted"}
        metrics = {k: _metric(d) for k, d in dicts.items()}
        adjusted = judge_adjusted_metrics(metrics, items.get(name, []), judge_error, seed=seed)
        for k, d in dicts.items():
            adj = adjusted[k].extra.get("ci_judge_adjusted")
            if adj is None or adj.get("verdict") not in judge_error:
                continue
            adj = {**adj, "method": f"{adj['method']}; judge rates: {source}", "rates_source": source}
            d["extra"] = {**(d.get("extra") or {}), "ci_judge_adjusted": adj}
            count += 1
    return count


def calibrate(run_dir: Path | str, labels_path: Path | str, *, labelled_by: str | None = None,
              conf: float = DEFAULT_CONF) -> Calibration:
    """Calibrate the run's judges on the labels; writes manifest.json, results.json and the report.

    Every check runs and every file is rendered before the first write.
    """
    from trustbench.report import html_text, json_report, markdown_text

    run = load_run(run_dir)
    path = Path(labels_path)
    labels = read_labels(path, judged_items(run))
    judges = confusion(labels, conf)
    check_minimum(path, judges)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    labelled = sum(j["n"] for j in judges.values())
    source = f"this run's labels ({path.name}, sha256 {sha[:12]}, {labelled} labelled; trustbench judge calibrate)"
    judge_error = {j["verdict_key"]: {k: j[k] for k in ("tp", "fp", "fn", "tn")} for j in judges.values()}

    manifest, results = copy.deepcopy(run.manifest), copy.deepcopy(run.results)
    previous = manifest.get("judge_calibration")
    if previous:
        replaced = {j["verdict_key"]: {k: j[k] for k in ("tp", "fp", "fn", "tn")} | {"labels_sha256": previous["labels"]["sha256"]}
                    for j in previous.get("judges", {}).values()}
    else:
        replaced = {k: v for k, v in ((manifest.get("judges") or {}).get("measured_error") or {}).items() if k in judge_error}
    adjusted = readjust(results, run, judge_error, seed=int(manifest.get("seed") or 0), source=source)
    manifest["judge_calibration"] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "labels": {"file": str(path), "sha256": sha, "lines": len(labels), "labelled": labelled,
                   "unlabelled": len(labels) - labelled},
        "labelled_by": labelled_by or "not stated (whoever filled in the audit sheet: a person, several, or a model)",
        "sampling": SAMPLING,
        "method": METHOD.format(conf=conf),
        "minimum": {"labelled": MIN_LABELLED, "per_class": MIN_PER_CLASS},
        "judges": judges,
        "replaced_rates": replaced,
        "metrics_adjusted": adjusted,
    }
    new = RunData(path=run.path, manifest=manifest, results=results, samples_path=run.samples_path)
    files = {
        run.path / "results.json": json.dumps(results, indent=2, ensure_ascii=False, default=str),
        run.path / "manifest.json": json.dumps(manifest, indent=2, ensure_ascii=False, default=str),
        run.path / "report.html": html_text(new),
    }
    if (run.path / "report.md").exists():
        files[run.path / "report.md"] = markdown_text(new)
    if (run.path / "report.json").exists():
        files[run.path / "report.json"] = json.dumps(json_report(new), indent=2, ensure_ascii=False, default=str)
    for p, text in files.items():
        atomic_write(p, text)
    return Calibration(judges=judges, metrics_adjusted=adjusted, written=list(files))
