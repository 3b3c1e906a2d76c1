"""`trustbench export RUN_DIR --format inspect -o FILE`: a run as an Inspect AI eval log.

One log for the whole run (task `trustbench/<suite>`), one sample per item (id `<task>/<item id>`)
with its messages, the model's output (or the generation error), its per-item scores as one
dict-valued Score named `trustbench`, and the verdicts in the sample metadata. The results hold
one score group per task with every computed metric (value; n, total, coverage and the interval
in the metric's metadata; metrics not computed are listed with their reason) and one group with
the dimension scores. Written with `inspect_ai.log.write_eval_log`: `.json` or `.eval` by suffix,
so `inspect view` opens it. Needs the `inspect` extra.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from trustbench import __version__
from trustbench.errors import TrustbenchError
from trustbench.records import Manifest, Results, Sample
from trustbench.report.rundir import load_run

FORMATS = {".json": "json", ".eval": "eval"}
SCORER = "trustbench"


def _inspect():
    try:
        import inspect_ai.log as log
        import inspect_ai.model as model
        import inspect_ai.scorer as scorer
    except ImportError:
        raise TrustbenchError("--format inspect needs inspect-ai: pip install 'trustbench[inspect]'") from None
    return log, model, scorer


def _scalar(v: Any) -> Any:
    """Score values Inspect accepts inside a dict: str, int, float, bool or None."""
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    return json.dumps(v, ensure_ascii=False, default=str)


def _model_name(spec: str | None) -> str:
    """Inspect names models `provider/model`; a trustbench spec is `backend:model`."""
    if not spec:
        return "unknown/unknown"
    kind, sep, rest = spec.partition(":")
    return f"{kind}/{rest}" if sep else spec


def _messages(m: Any, sample: Sample) -> list[Any]:
    out = []
    for msg in sample.messages:
        role, content = msg.get("role"), str(msg.get("content") or "")
        if role == "system":
            out.append(m.ChatMessageSystem(content=content))
        elif role == "assistant":
            out.append(m.ChatMessageAssistant(content=content))
        else:
            out.append(m.ChatMessageUser(content=content))
    return out


def _sample(log: Any, m: Any, sc: Any, s: Sample, model: str) -> Any:
    inputs = _messages(m, s)
    messages = list(inputs)
    if s.response is not None:
        output = m.ModelOutput.from_content(model=model, content=s.response)
        messages.append(m.ChatMessageAssistant(content=s.response, model=model))
    else:
        output = m.ModelOutput(model=model, error=s.error or "no response")
    value = {k: _scalar(v) for k, v in s.score.items()}
    score = sc.Score(
        value=value,
        answer=s.response,
        explanation=None if s.response is not None else f"generation failed: {s.error}",
        metadata={"verdicts": s.verdicts, "verdict_notes": s.verdict_notes, "judges": s.judges},
    )
    return log.EvalSample(
        id=f"{s.task}/{s.id}",
        epoch=1,
        input=inputs,
        target="",
        messages=messages,
        output=output,
        scores={SCORER: score},
        metadata={"task": s.task, "item_id": s.id, "index": s.index, "cached": s.cached},
        error=None if s.response is not None else log.EvalError(message=s.error or "no response", traceback="",
                                                                  traceback_ansi=""),
    )


def _results(log: Any, results: Results, n_samples: int, n_ok: int) -> Any:
    scores = []
    for name, t in results.tasks.items():
        metrics = {}
        not_computed = {}
        for key, mr in t.metrics.items():
            if mr.value is None:
                not_computed[key] = mr.reason
                continue
            meta = {k: v for k, v in mr.dump().items() if k not in ("value", "extra")}
            metrics[key] = log.EvalMetric(name=key, value=mr.value, metadata=meta)
        scores.append(log.EvalScore(
            name=name, scorer=SCORER, scored_samples=(t.n_items or 0) - (t.n_failed or 0),
            unscored_samples=t.n_failed, metrics=metrics,
            metadata={"dimension": t.dimension, "description": t.description, "not_computed": not_computed},
        ))
    dims = {d: log.EvalMetric(name=d, value=r.score, metadata={"ci": r.ci, "ci_method": r.ci_method,
                                                               "n_metrics": r.n_metrics})
            for d, r in (results.dimensions or {}).items() if r.score is not None}
    if dims:
        scores.append(log.EvalScore(name="dimensions", scorer=SCORER, metrics=dims,
                                    metadata={"scoring": results.scoring}))
    return log.EvalResults(total_samples=n_samples, completed_samples=n_ok, scores=scores)


def build_eval_log(run_dir: Path) -> Any:
    """The Inspect EvalLog of a run directory."""
    log, m, sc = _inspect()
    run = load_run(run_dir)
    manifest: Manifest = run.manifest_record or Manifest()
    results: Results = run.results_record or Results.model_validate(run.results)
    model = _model_name(manifest.model.spec if manifest.model else None)
    samples = [_sample(log, m, sc, s, model) for s in run.iter_sample_records()]
    suite = manifest.suite.name if manifest.suite else "unknown"
    started = manifest.started_at or ""
    spec = log.EvalSpec(
        run_id=manifest.run_id or run.run_id,
        eval_id=run.run_id,
        created=started,
        task=f"trustbench/{suite}",
        task_version=0,
        task_description=f"trustbench run {run.run_id} ({results.scoring or 'corrected'} scoring)",
        dataset=log.EvalDataset(name=suite, samples=len(samples), sample_ids=[s.id for s in samples]),
        model=model,
        config=log.EvalConfig(),
        packages={"trustbench": manifest.trustbench_version or __version__},
        metadata={"trustbench_manifest": manifest.dump()},
    )
    n_ok = sum(1 for s in samples if s.error is None)
    return log.EvalLog(
        eval=spec,
        status="success",
        plan=log.EvalPlan(name="trustbench", steps=[log.EvalPlanStep(solver="generate", params={})]),
        results=_results(log, results, len(samples), n_ok),
        stats=log.EvalStats(started_at=started, completed_at=manifest.ended_at or started),
        samples=samples,
    )


def export_inspect(run_dir: Path, out: Path) -> Path:
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise TrustbenchError(f"-o {out}: an Inspect log file ends in .json or .eval")
    log, _, _ = _inspect()
    eval_log = build_eval_log(run_dir)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        log.write_eval_log(eval_log, str(out), format=fmt)
    except OSError as e:
        raise TrustbenchError(f"-o {out}: cannot write ({e.strerror or e})") from None
    return out
