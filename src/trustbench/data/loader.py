"""Find and load suites: a directory `<dimension>/<file>.json` validated against task schemas."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from trustbench.core.cache import default_cache_dir
from trustbench.errors import DataError, TrustbenchError
from trustbench.tasks.base import Task

ENV_DATA = "TRUSTBENCH_DATA"
SUITES = ("builtin", "trustllm")


def builtin_root() -> Path:
    return Path(str(resources.files("trustbench.data") / "builtin"))


def trustllm_root(data: str | os.PathLike[str] | None = None) -> Path:
    """Where the TrustLLM data lives: --data, $TRUSTBENCH_DATA, the download cache,
    or (in a source checkout) ../shared/data/trustllm beside the repository."""
    if data:
        root = Path(data)
        if not root.is_dir():
            raise TrustbenchError(f"--data: {root} is not a directory")
        return root
    if os.environ.get(ENV_DATA):
        root = Path(os.environ[ENV_DATA])
        if not root.is_dir():
            raise TrustbenchError(f"${ENV_DATA}: {root} is not a directory")
        return root
    candidates = [default_cache_dir() / "data" / "trustllm"]
    repo = Path(__file__).resolve().parents[3]
    candidates.append(repo.parent / "shared" / "data" / "trustllm")
    for c in candidates:
        if c.is_dir():
            return c
    raise TrustbenchError(
        "TrustLLM data not found: run `trustbench data download`, or pass --data DIR / set $TRUSTBENCH_DATA"
    )


def suite_root(suite: str, data: str | os.PathLike[str] | None = None) -> Path:
    if suite == "builtin":
        if data:
            raise TrustbenchError("--data applies to --suite trustllm only")
        return builtin_root()
    if suite == "trustllm":
        return trustllm_root(data)
    raise TrustbenchError(f"--suite: unknown suite {suite!r} (choose from {', '.join(SUITES)})")


# The largest TrustLLM record is about 54,000 characters as JSON (truthfulness/internal.json
# record 352) and the longest prompt 4,709 (truthfulness/hallucination.json record 615).
MAX_PROMPT_CHARS = 100_000
MAX_RECORD_CHARS = 1_000_000


@dataclass(frozen=True)
class InputLimits:
    """Sizes above which a data file is refused before any model call."""

    max_prompt_chars: int | None = MAX_PROMPT_CHARS
    max_record_chars: int | None = MAX_RECORD_CHARS
    max_items: int | None = None  # records per file; None = no limit


def check_sizes(path: Path, records: list[dict[str, Any]], limits: InputLimits, file_bytes: int | None = None) -> None:
    """A file with too many records, or a record or prompt that is too long, is a one-line error.
    Records are measured re-serialized (at most twice their source length), so a file under half
    the record limit needs no per-record measure."""
    if limits.max_items is not None and len(records) > limits.max_items:
        raise DataError(f"{path}: {len(records):,} records, above --max-items {limits.max_items:,}")
    for i, rec in enumerate(records):
        prompt = rec.get("prompt")
        if limits.max_prompt_chars is not None and isinstance(prompt, str) and len(prompt) > limits.max_prompt_chars:
            raise DataError(f"{path}: record {i}: prompt is {len(prompt):,} characters, "
                            f"above --max-prompt-chars {limits.max_prompt_chars:,}")
        if limits.max_record_chars is not None and (file_bytes is None or 2 * file_bytes > limits.max_record_chars):
            size = len(json.dumps(rec, ensure_ascii=False))
            if size > limits.max_record_chars:
                raise DataError(f"{path}: record {i}: {size:,} characters as JSON, "
                                f"above --max-record-chars {limits.max_record_chars:,}")


@dataclass(frozen=True)
class TaskData:
    task: Task
    path: Path
    sha256: str
    records: list[dict[str, Any]]


def read_json_records(path: Path) -> tuple[list[dict[str, Any]], str]:
    """Parse a JSON list of objects; errors name the file (and record)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror})") from None
    digest = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 (byte {e.start})") from None
    if not text.strip():
        raise DataError(f"{path}: empty file")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(f"{path}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
    except RecursionError:
        raise DataError(f"{path}: JSON nested too deeply") from None
    if not isinstance(data, list):
        raise DataError(f"{path}: expected a JSON list of records, got {type(data).__name__}")
    for i, rec in enumerate(data):
        if not isinstance(rec, dict):
            raise DataError(f"{path}: record {i}: expected an object, got {type(rec).__name__}")
    return data, digest


def validate_records(task: Task, path: Path, records: list[dict[str, Any]]) -> None:
    for i, rec in enumerate(records):
        try:
            task.schema.model_validate(rec)
        except ValidationError as e:
            err = e.errors()[0]
            loc = ".".join(str(p) for p in err["loc"]) or "record"
            raise DataError(f"{path}: record {i}: field {loc!r}: {err['msg']}") from None


def load_task_data(task: Task, root: Path, limits: InputLimits | None = None) -> TaskData:
    path = root / task.dimension / task.file
    records, digest = read_json_records(path)
    validate_records(task, path, records)
    check_sizes(path, records, limits or InputLimits(), path.stat().st_size)
    return TaskData(task=task, path=path, sha256=digest, records=records)
