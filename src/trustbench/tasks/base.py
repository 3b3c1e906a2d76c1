"""Task contract: a declarative description of one TrustLLM file and its pure scorer.

Flow: record -> `Task.messages` -> model response -> `Task.judge_requests` -> judges fill
`Item.verdicts` -> `Task.score(items, mode)` (pure) -> `TaskScore`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from trustbench.scoring.metric import Metric

ScoringMode = Literal["corrected", "trustllm"]
SCORING_MODES: tuple[str, ...] = ("corrected", "trustllm")
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
    kind "llm":       template = judge prompt name (see trustbench.judges.prompts), fields =
                      the template inputs; verdict is the judge's raw reply (already validated
                      against the template's label set) or None when it failed / stayed unparsed.
    """

    key: str
    kind: JudgeKind
    text: str = ""
    template: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Item:
    """One scored unit: the record, the model's response, and judge verdicts."""

    task: str
    id: str
    index: int
    record: Mapping[str, Any]
    response: str | None
    error: str | None = None
    verdicts: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskScore:
    """What a scorer returns. `metrics` keys are TrustLLM's key names in trustllm mode."""

    metrics: dict[str, Metric]
    per_item: dict[str, dict[str, Any]] = field(default_factory=dict)


Scorer = Callable[[Sequence[Item], ScoringMode], TaskScore]
JudgePlanner = Callable[[Mapping[str, Any], str], list[JudgeRequest]]
FrozenVerdicts = Callable[[Mapping[str, Any]], dict[str, Any]]


def no_judges(record: Mapping[str, Any], response: str) -> list[JudgeRequest]:
    return []


def no_frozen(record: Mapping[str, Any]) -> dict[str, Any]:
    return {}


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
    unit_copy:   (record, r) -> the record of the r-th extra bootstrap copy of its unit, changed
                 so that the scorer pairs the copy with itself and not with the first copy (for a
                 scorer that groups by a record field, e.g. a fresh pair index). None: the scorer
                 already counts repeated records each time.
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
