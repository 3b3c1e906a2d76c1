"""What a run is asked to do (RunConfig), what it returns (RunResult), the option checks, and
the one place the response cache is opened."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trustbench.core.cache import Cache
from trustbench.data.loader import MAX_PROMPT_CHARS, MAX_RECORD_CHARS
from trustbench.errors import TrustbenchError
from trustbench.judges import DEFAULT_DETECTOR
from trustbench.tasks.base import SCORING_MODES


@dataclass
class RunConfig:
    """Everything `trustbench run` accepts (the CLI and `trustbench.api.run` build one)."""

    model: str = "local:smollm2"
    suite: str = "builtin"
    data: str | None = None
    tasks: str | None = None
    limit: int | None = None
    sample: int | None = None
    seed: int = 0
    out: str | None = None
    cache: str | None = None
    base_url: str | None = None
    concurrency: int | None = None  # fixed concurrency; None = adaptive
    max_concurrency: int = 64
    timeout: float = 300.0
    max_attempts: int = 6
    temperature: float | None = None
    max_tokens: int | None = None
    system_prompt: str | None = None
    scoring: str = "corrected"
    judge: str | None = None
    judge_base_url: str | None = None
    refusal_detector: str = DEFAULT_DETECTOR
    embedder: str = "minilm"
    toxicity: str = "offline"
    report: bool = True  # read by the callers (CLI, api), which write the report
    progress: bool = True  # read by the CLI, which owns the progress display
    n_boot: int = 200
    shard: str | None = None  # "I/N": run shard I (0-based) of N, split by sampling unit
    ray: str | None = None  # Ray address, "auto" or "local": serve the model from Ray replicas
    replicas: int = 1
    replica_cpus: float = 1.0
    replica_gpus: float = 0.0
    max_prompt_chars: int = MAX_PROMPT_CHARS
    max_record_chars: int = MAX_RECORD_CHARS
    max_items: int | None = None
    max_cost: float | None = None  # USD; a run whose planned cost is higher does not start
    price_in: float | None = None  # USD per million prompt tokens (overrides the price table)
    price_out: float | None = None  # USD per million output tokens
    argv: list[str] = field(default_factory=lambda: list(sys.argv))


@dataclass(repr=False)
class RunResult:
    out_dir: Path
    results: dict[str, Any]
    failed: int
    model_calls: int
    cache_hits: int
    first_error: str | None = None  # "<task> <item id>: <reason>" of the first failed item
    sample_blob: Any = None  # report.sample_rows.SampleBlob: the report's sample browser data (write_report's sample_blob)

    def __repr__(self) -> str:
        """Short: asyncio writes the run task's repr, result included, when asyncio.run restores
        the Ctrl-C handler (four times, 10-15 ms each for the whole results of a 2,000-item run)."""
        return (f"RunResult(out_dir={str(self.out_dir)!r}, items={self.results.get('summary', {}).get('items')}, "
                f"failed={self.failed}, model_calls={self.model_calls}, cache_hits={self.cache_hits})")


def check_config(cfg: RunConfig) -> None:
    """Reject bad option values with a one-line error naming the flag."""
    if cfg.scoring not in SCORING_MODES:
        raise TrustbenchError(f"--scoring: must be one of {', '.join(SCORING_MODES)}")
    for flag, value in (("--limit", cfg.limit), ("--sample", cfg.sample)):
        if value is not None and value < 1:
            raise TrustbenchError(f"{flag}: must be a positive integer")
    if cfg.limit is not None and cfg.sample is not None:
        raise TrustbenchError("--limit and --sample cannot be combined")
    for flag, value in (("--max-attempts", cfg.max_attempts), ("--concurrency", cfg.concurrency),
                        ("--max-concurrency", cfg.max_concurrency), ("--max-tokens", cfg.max_tokens),
                        ("--max-prompt-chars", cfg.max_prompt_chars), ("--max-record-chars", cfg.max_record_chars),
                        ("--max-items", cfg.max_items)):
        if value is not None and value < 1:
            raise TrustbenchError(f"{flag}: must be a positive integer")
    if not cfg.timeout > 0:  # also rejects NaN
        raise TrustbenchError("--timeout: must be a positive number of seconds")
    if cfg.replicas < 1:
        raise TrustbenchError("--replicas: must be a positive integer")
    if cfg.ray is None and (cfg.replicas != 1 or cfg.replica_cpus != 1.0 or cfg.replica_gpus != 0.0):
        raise TrustbenchError("--replicas, --replica-cpus and --replica-gpus need --ray ADDRESS|auto|local")
    if not (cfg.replica_cpus >= 0 and cfg.replica_gpus >= 0):
        raise TrustbenchError("--replica-cpus/--replica-gpus: must be >= 0")
    if cfg.shard is not None:
        from trustbench.engine.shard import parse_shard

        parse_shard(cfg.shard)


def open_cache(path: str | Path | None) -> Cache:
    """The response cache: `path`, else $TRUSTBENCH_CACHE, else ~/.cache/trustbench/cache.sqlite."""
    from trustbench.core.cache import default_cache_dir

    return Cache(path or os.environ.get("TRUSTBENCH_CACHE") or default_cache_dir() / "cache.sqlite")
