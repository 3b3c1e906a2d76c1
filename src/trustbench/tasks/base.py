"""Task contract: a declarative description of one TrustLLM file and its pure scorer.

Flow: record -> `Task.messages` -> model response -> `Task.judge_requests` -> judges fill
`Item.verdicts` -> `Task.score(items, mode)` (pure) -> `TaskScore`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from trustbench.judges.prompts import JudgeTemplate  # noqa: F401 (re-exported: tasks declare their judge prompts)

from trustbench.scoring.items import (  # noqa: F401 (re-exported)
    SCORING_MODES,
    Item,
    ScoringMode,
    SplitScorer,
    TaskScore,
)

DIMENSIONS: tuple[str, ...] = (
    "truthfulness",
    "safety",
    "fairness",
    "robustness",
    "privacy",
    "ethics",
)

JudgeKind = Literal["refusal", "llm", "embedding", "toxicity"]


class Record(BaseModel):
    """Base schema for a dataset record: every record has a prompt; other fields pass through."""

    model_config = ConfigDict(extra="allow")
    prompt: str


@dataclass(frozen=True)
class JudgeRequest:
    """Ask a judge for one verdict, stored as `Item.verdicts[key]`.

    kind "refusal":   text = the response; verdict is True (refused) / False / None (failed).
    kind "toxicity":  text = the response; verdict is a float in [0, 1] or None.
    kind "embedding": text = any text; verdict is a list[float] or None.
    kind "llm":       template = judge prompt name (a task's `JudgeTemplate`), fields =
                      the template inputs; verdict is the judge's raw reply (already validated
                      against the template's label set) or None when it failed / stayed unparsed;
                      the judge's first reply as received is stored under `reply_key(key)`.
    """

    key: str
    kind: JudgeKind
    text: str = ""
    template: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)


def reply_key(key: str) -> str:
    """The verdict key of an LLM judge's first reply as received, before validation and retries:
    the text TrustLLM would score (its judge takes one reply, whatever it says). Set only for a live
    judge that reports it; an empty reply is stored as None (TrustLLM's `get_res` returns None).
    Frozen `eval_res` replies are stored under `key` itself."""
    return f"{key}:reply"


Scorer = Callable[[Sequence[Item], ScoringMode], TaskScore]
JudgePlanner = Callable[[Mapping[str, Any], str], list[JudgeRequest]]
FrozenVerdicts = Callable[[Mapping[str, Any]], dict[str, Any]]


def no_judges(record: Mapping[str, Any], response: str) -> list[JudgeRequest]:
    return []


def no_frozen(record: Mapping[str, Any]) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class RefusalRate:
    """Where a task's refusal rate is among its metrics: puts the task on the report's over-refusal
    frontier (x: refusal rate on safe prompts; y: compliance rate on harmful prompts, pooled).

    prompts:         "safe" (refusing is over-refusal) or "harmful" (complying is harmful compliance).
    keys:            metric keys of the refusal rate, the first one present is used (one per scoring mode).
    complement_keys: metric keys of the answer rate (1 - refusal rate), tried after `keys`.
    """

    prompts: Literal["safe", "harmful"]
    keys: tuple[str, ...]
    complement_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Task:
    """One TrustLLM file (`<dimension>/<file>.json`) and how to score it.

    temperature: TrustLLM's per-file generation temperature (method §3.3).
    max_tokens:  our default max_tokens for this task (TrustLLM uses 512 for local models).
    judges:      (record, response) -> judge requests; must be deterministic.
    frozen:      record -> verdicts taken from fields a TrustLLM generation file may carry
                 (`eval_res`, `embedding`, `toxicity`), used by `trustbench score`.
    cross_judges: items -> [(item id, request)] for verdicts that need several responses at
                 once (e.g. the two orderings of a sycophancy-preference pair); run after `judges`.
    group:       record -> sub-category label, used for stratified sampling and the datasheet.
    unit:        (record, index) -> key of the records that are scored together (a pair, a
                 group of variants); `--sample` draws whole units and the bootstrap resamples
                 whole units. Default: each record alone.
    unit_copy:   for a scorer that is not a `SplitScorer` (its bootstrap re-runs it on resampled
                 items): (record, r) -> the record of the r-th extra bootstrap copy of its unit,
                 changed so that the scorer pairs the copy with itself and not with the first copy
                 (for a scorer that groups by a record field, e.g. a fresh pair index). None: the
                 scorer already counts repeated records each time. A `SplitScorer` says the same
                 of its outcomes with `SplitScorer.copy`.
    judge_templates: the LLM-judge prompts this task's `judges` plan asks for (by `name`).
    trustllm_records: the record count of this file in TrustLLM v0.3.0, checked by `trustbench data
                 download` / `verify` (which fetch every task that sets it); None: not a TrustLLM file.
    refusal_rate: where the task's refusal rate is, for the report's over-refusal frontier; None:
                 the task is not on the frontier.
    """

    dimension: str
    file: str
    description: str
    temperature: float
    score: Scorer
    schema: type[Record] = Record
    max_tokens: int = 512
    judges: JudgePlanner = no_judges
    frozen: FrozenVerdicts = no_frozen
    cross_judges: Callable[[Sequence[Item]], list[tuple[str, JudgeRequest]]] | None = None
    group: Callable[[Mapping[str, Any]], str] | None = None
    unit: Callable[[Mapping[str, Any], int], str] | None = None
    unit_copy: Callable[[Mapping[str, Any], int], Mapping[str, Any]] | None = None
    judge_templates: tuple[JudgeTemplate, ...] = ()
    trustllm_records: int | None = None
    refusal_rate: RefusalRate | None = None

    @property
    def stem(self) -> str:
        return self.file.removesuffix(".json")

    @property
    def name(self) -> str:
        return f"{self.dimension}/{self.stem}"

    def messages(self, record: Mapping[str, Any]) -> list[dict[str, str]]:
        """TrustLLM sends the record's prompt verbatim as one user message, no system prompt."""
        return [{"role": "user", "content": record["prompt"]}]

    def item_id(self, record: Mapping[str, Any], index: int) -> str:
        rid = record.get("id")
        return str(rid) if isinstance(rid, (str, int)) and rid != "" else f"{self.stem}-{index:05d}"
