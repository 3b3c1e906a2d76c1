"""The Python API: the CLI's commands as functions.

    from trustbench import api
    result = api.run(model="openai:gpt-4o-mini", suite="trustllm", tasks="safety", limit=20)
    print(result.results["dimensions"])
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trustbench.engine.runner import RunConfig, RunResult
from trustbench.engine.runner import run as _run


def run(**options: Any) -> RunResult:
    """`trustbench run`: options are RunConfig fields (model, suite, tasks, limit, sample, ...)."""
    options.setdefault("progress", False)
    options.setdefault("argv", ["trustbench.api.run"])
    cfg = RunConfig(**options)
    result = _run(cfg, say=lambda _: None)
    if cfg.report:
        from trustbench.report import write_report

        write_report(result.out_dir, fmt="html", sample_blob=result.sample_blob)
    return result


def score(directory: str | Path, scoring: str = "corrected", **judge_options: Any) -> dict[str, Any]:
    """`trustbench score`: score TrustLLM generation files; returns the nested scores dict."""
    from trustbench.engine.config import open_cache
    from trustbench.engine.runner import build_judges
    from trustbench.engine.score import score_dir

    cfg = RunConfig(scoring=scoring, **judge_options)
    cache = open_cache(cfg.cache)
    return score_dir(Path(directory), scoring, build_judges(cfg, cache), seed=cfg.seed)


def report(run_dir: str | Path, fmt: str = "html", out: str | Path | None = None) -> Path:
    """`trustbench report`."""
    from trustbench.report.commands import report_command

    return report_command(Path(run_dir), fmt=fmt, out=Path(out) if out else None)


def compare(run_dirs: list[str | Path], out: str | Path, allow_different_data: bool = False) -> Path:
    """`trustbench compare`."""
    from trustbench.report.commands import compare_command

    return compare_command([Path(d) for d in run_dirs], Path(out), allow_different_data=allow_different_data)


def plan(**options: Any) -> Any:
    """`trustbench plan`: the `trustbench.plan.Plan` of a run with these RunConfig options."""
    from trustbench.engine.preflight import plan_run

    return plan_run(RunConfig(**options))


def export(run_dir: str | Path, out: str | Path, fmt: str = "inspect") -> Path:
    """`trustbench export`: an Inspect AI eval log (.json or .eval)."""
    if fmt != "inspect":
        from trustbench.errors import TrustbenchError

        raise TrustbenchError(f"--format: unknown export format {fmt!r} (choose from inspect)")
    from trustbench.report.inspect_export import export_inspect

    return export_inspect(Path(run_dir), Path(out))
