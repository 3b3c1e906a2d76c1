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
    return _run(RunConfig(**options), say=lambda _: None)


def score(directory: str | Path, scoring: str = "corrected", **judge_options: Any) -> dict[str, Any]:
    """`trustbench score`: score TrustLLM generation files; returns the nested scores dict."""
    import os

    from trustbench.data.loader import default_cache_dir
    from trustbench.engine.cache import Cache
    from trustbench.engine.runner import build_judges
    from trustbench.engine.score import score_dir

    cfg = RunConfig(scoring=scoring, **judge_options)
    cache = Cache(cfg.cache or os.environ.get("TRUSTBENCH_CACHE") or default_cache_dir() / "cache.sqlite")
    return score_dir(Path(directory), scoring, build_judges(cfg, cache), seed=cfg.seed)


def report(run_dir: str | Path, fmt: str = "html", out: str | Path | None = None) -> Path:
    """`trustbench report`."""
    from trustbench.report.commands import report_command

    return report_command(Path(run_dir), fmt=fmt, out=Path(out) if out else None)


def compare(run_dirs: list[str | Path], out: str | Path, allow_different_data: bool = False) -> Path:
    """`trustbench compare`."""
    from trustbench.report.commands import compare_command

    return compare_command([Path(d) for d in run_dirs], Path(out), allow_different_data=allow_different_data)
