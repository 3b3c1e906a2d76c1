"""Measured generation rates (rates.json in the cache directory) and the run's time estimate."""

from __future__ import annotations

import json
import os
from pathlib import Path

from trustbench.core.cache import cache_key, default_cache_dir
from trustbench.engine.plan import suite_meta
from trustbench.models.base import Model


def _rate_key(model: Model, suite: str) -> str:
    return cache_key(model.identity(), suite)


def cpu_share(threads: int) -> float:
    """The share of `threads` busy threads' CPU time this machine can give now: cores over
    (1-minute load average + threads), at most 1. A model that runs on this machine's CPU slows
    down by about that much when other work holds the cores."""
    cores = max(1, os.cpu_count() or 1)
    try:
        load = os.getloadavg()[0]
    except OSError:
        return 1.0
    return min(1.0, cores / (load + threads))


def estimate_seconds(model: Model, suite: str, n_calls: int) -> tuple[float | None, str]:
    """Expected duration: calls times the rate measured on the last run of this model on this
    suite (rates.json), else the rate shipped for the default model (bench/RESULTS.md, an idle
    machine). A model that runs on this machine's CPU (`cpu_threads`) gets the shipped rate scaled
    by `cpu_share`: other work on the cores slows it down."""
    rate = _load_rates().get(_rate_key(model, suite))
    source = "measured on the last run"
    if not rate:
        shipped = suite_meta(suite).get("reference_rates", {}).get(getattr(model, "spec", ""))
        if shipped:
            rate, source = float(shipped), "measured for this model on an idle 2-core machine"
            threads = getattr(model, "cpu_threads", None)
            share = cpu_share(threads) if threads else 1.0
            if share < 0.9:
                rate *= share
                source += f", scaled by {share:.2f} for this machine's load ({os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    if n_calls == 0:
        return None, "every response is cached"
    if not rate:
        return None, "no measured rate for this model yet; the progress bar shows the ETA"
    return n_calls / rate, f"{n_calls} model calls at {rate:.2f}/s {source}"


def _rates_path() -> Path:
    return default_cache_dir() / "rates.json"


def _load_rates() -> dict[str, float]:
    try:
        return json.loads(_rates_path().read_text())
    except (OSError, ValueError):
        return {}


def save_rate(model: Model, suite: str, rate: float) -> None:
    rates = _load_rates()
    rates[_rate_key(model, suite)] = rate
    try:
        _rates_path().parent.mkdir(parents=True, exist_ok=True)
        _rates_path().write_text(json.dumps(rates))
    except OSError:
        pass


def fmt_duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"
