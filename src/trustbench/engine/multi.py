"""`trustbench run --models A,B,...`: evaluate several models in one invocation (one run
directory each, one replica group each under --ray, one Ray cluster for all); the caller then
writes the leaderboard of `trustbench compare` into <out>/comparison."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace
from pathlib import Path
from typing import Any

from trustbench.engine.config import RunConfig, RunResult
from trustbench.engine.write import default_out_dir
from trustbench.errors import TrustbenchError


def parse_models(value: str) -> list[str]:
    """Comma-separated specs, or a file with one spec per line (# comments)."""
    path = Path(value)
    if path.is_file():
        lines = path.read_text(encoding="utf-8").splitlines()
        specs = [x.split("#", 1)[0].strip() for x in lines]
    else:
        specs = [x.strip() for x in value.split(",")]
    specs = [s for s in specs if s]
    if len(specs) < 2:
        raise TrustbenchError(f"--models: {value!r} names fewer than two models (use --model for one)")
    if len(set(specs)) != len(specs):
        raise TrustbenchError(f"--models: {value!r} names a model twice")
    return specs


def safe_name(spec: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in spec)[:60]


def run_models(cfg: RunConfig, specs: list[str], run: Callable[[RunConfig], RunResult]) -> tuple[list[RunResult], Path]:
    """Run each model into <out>/<model>; returns the results and <out>."""
    base = Path(cfg.out) if cfg.out else default_out_dir("models")
    session: AbstractContextManager[Any] = contextlib.nullcontext()
    if cfg.ray:  # one cluster for every model's replicas
        from trustbench.scale.ray_cluster import ray_session

        session = ray_session(cfg.ray, cfg.replicas, cfg.replica_cpus, cfg.replica_gpus)
    with session:
        return [run(replace(cfg, model=spec, out=str(base / safe_name(spec)))) for spec in specs], base
