"""Typed records of a run directory: manifest.json, one samples.jsonl line, results.json.

The writer (engine/rundir.py) validates what it writes with them; the readers (report/rundir.py,
report/inspect_export.py) validate what they read. The fields code reads are typed; anything
else passes through (`extra="allow"`), so older and newer run directories load. `dump` returns
the keys a record was given, in the order the runner writes them: the JSON on disk is unchanged.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

Number = int | float  # an int stays an int on the way back to JSON


class Record(BaseModel):
    model_config = ConfigDict(extra="allow")

    def dump(self) -> dict[str, Any]:
        """The record as the dict it was built from (unset defaults left out)."""
        return self.model_dump(exclude_unset=True)


# -- manifest.json ---------------------------------------------------------------------------


class SuiteInfo(Record):
    name: str
    version: str | None = None
    root: str | None = None


class DatasetFile(Record):
    path: str
    sha256: str
    records: int


class ModelInfo(Record):
    spec: str | None = None
    identity: dict[str, Any] = {}
    info: dict[str, Any] | None = None


class Manifest(Record):
    trustbench_version: str | None = None
    run_id: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    suite: SuiteInfo | None = None
    dataset_files: dict[str, DatasetFile] = {}
    tasks: list[str] = []
    model: ModelInfo | None = None
    generation: dict[str, dict[str, Any]] = {}
    seed: int | None = None
    limit: int | None = None
    sample: int | None = None
    scoring: str | None = None
    judges: dict[str, Any] | None = None
    command: list[str] = []


# -- samples.jsonl ---------------------------------------------------------------------------


class Sample(Record):
    """One item: its messages, the response (None when generation failed, then `error`),
    judge verdicts and the per-item scores."""

    task: str
    id: str | int
    index: int | None = None
    messages: list[dict[str, Any]] = []
    response: str | None = None
    error: str | None = None
    verdicts: dict[str, Any] = {}
    verdict_notes: dict[str, Any] | None = None
    judges: dict[str, Any] = {}
    score: dict[str, Any] = {}
    cached: bool = False


# -- results.json ----------------------------------------------------------------------------


class MetricRecord(Record):
    """`scoring.metric.Metric.to_dict()`."""

    value: Number | None
    n: int | None = None
    total: int | None = None
    parsed: int | None = None
    direction: str = "higher"
    successes: int | None = None
    ci_kind: str | None = None
    headline: bool = False
    description: str = ""
    reason: str | None = None
    ci: list[Number] | None = None
    ci_method: str | None = None
    extra: dict[str, Any] = {}
    coverage: Number | None = None


class TaskResult(Record):
    dimension: str | None = None
    description: str | None = None
    n_items: int | None = None
    n_failed: int | None = None
    metrics: dict[str, MetricRecord]


class DimensionResult(Record):
    score: Number | None = None
    ci: list[Number] | None = None
    ci_method: str | None = None
    n_metrics: int | None = None
    metrics: list[str] = []
    not_computed: list[str] = []
    definition: str | None = None
    reason: str | None = None


class Summary(Record):
    items: int | None = None
    failed: int | None = None
    cache_hits: int | None = None
    model_calls: int | None = None
    retries: int | None = None
    judge_errors: dict[str, int] = {}


class Results(Record):
    scoring: str | None = None
    tasks: dict[str, TaskResult]
    dimensions: dict[str, DimensionResult] | None = {}
    summary: Summary | None = None


def describe_error(e: ValidationError, kind: str) -> str:
    """The first validation error as a short phrase naming the task / metric / field."""
    err = e.errors()[0]
    loc = [str(p) for p in err["loc"]]
    if kind == "results" and loc and loc[0] == "tasks":
        if len(loc) == 1:
            return "missing object 'tasks'"
        if len(loc) <= 3:
            return f"task {loc[1]!r} has no object 'metrics'"
        where = f"metric {loc[1]}:{loc[3]}"
        if len(loc) == 4:
            return f"{where} is not a metric record"
        if loc[4] == "value" and err["type"] == "missing":
            return f"{where} is not a metric record"
        if loc[4] == "value":
            return f"{where} value is not a number"
        return f"{where} field {loc[4]!r}: {err['msg']}"
    if kind == "results" and loc == ["dimensions"]:
        return "'dimensions' must be an object"
    return f"field {'.'.join(loc) or kind}: {err['msg']}"
