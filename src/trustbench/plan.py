"""Pre-flight plan of a run: items, model and judge calls, tokens, time and cost.

Pure: it takes what the runner already computed (planned items, cached responses, the
measured rate) and prices it with `data/prices.json` or `--price-in/--price-out`. Prompt tokens
are counted with the model's own tokenizer when the backend offers one (`Model.count_tokens`:
llama.cpp's /tokenize, a transformers tokenizer); otherwise they are estimated as characters / 4,
and the plan says so. `trustbench plan` prints every line; `trustbench run` prints the first
and, with `--max-cost`, refuses to start when the plan's upper bound is higher.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from typing import Any, Protocol

from trustbench.errors import TrustbenchError
from trustbench.models.base import GenParams
from trustbench.tasks.base import Item, JudgeRequest, Task

CHARS_PER_TOKEN = 4  # the usual rule of thumb for English text with BPE tokenizers
JUDGE_MAX_TOKENS = 32  # ChatLLMJudge's reply bound
LOCAL_KINDS = ("local", "hf")


class PlannedLike(Protocol):
    task: Task
    record: Mapping[str, Any]
    item_id: str
    index: int
    messages: list[dict[str, str]]
    params: GenParams
    key: str


@dataclass(frozen=True)
class Price:
    """USD per million tokens."""

    input: float
    output: float
    source: str


@functools.cache
def price_table() -> dict[str, Any]:
    """`data/prices.json`: {"source", "as_of", "note", "prices": {spec: {"input", "output"}}}."""
    return json.loads((resources.files("trustbench.data") / "prices.json").read_text(encoding="utf-8"))


def lookup_price(spec: str) -> tuple[float, float] | None:
    """The table's (input, output) price for a model spec: exact name, else the longest
    name that prefixes it (a dated snapshot such as gpt-4o-mini-2024-07-18), else None."""
    prices = price_table()["prices"]
    kind, _, name = spec.partition(":")
    if kind == "litellm":  # litellm:openai/gpt-4o, litellm:anthropic/claude-..., litellm:gpt-4o
        provider, sep, model = name.partition("/")
        spec = f"{provider}:{model}" if sep else f"openai:{name}"
    if spec in prices:
        p = prices[spec]
        return float(p["input"]), float(p["output"])
    best = max((k for k in prices if spec.startswith(k + "-")), key=len, default=None)
    if best is None:
        return None
    return float(prices[best]["input"]), float(prices[best]["output"])


def price_for(spec: str | None, price_in: float | None = None, price_out: float | None = None) -> Price | None:
    """The price of a model spec; flags override the table; local backends cost nothing."""
    if not spec:
        return None
    kind = spec.partition(":")[0]
    if kind in LOCAL_KINDS and price_in is None and price_out is None:
        return Price(0.0, 0.0, "runs locally")
    table = lookup_price(spec)
    tin = price_in if price_in is not None else (table[0] if table else None)
    tout = price_out if price_out is not None else (table[1] if table else None)
    if tin is None or tout is None:
        return None
    if price_in is not None and price_out is not None:
        source = "--price-in/--price-out"
    elif price_in is not None or price_out is not None:
        source = f"price table {price_table()['as_of']} with --price-in/--price-out"
    else:
        source = f"price table {price_table()['as_of']}"
    return Price(tin, tout, source)


def check_prices(price_in: float | None, price_out: float | None) -> None:
    for flag, v in (("--price-in", price_in), ("--price-out", price_out)):
        if v is not None and not v >= 0:  # rejects NaN too
            raise TrustbenchError(f"{flag}: must be a non-negative number of USD per million tokens")


def estimate_tokens(text: str) -> int:
    return max(1, round(len(text) / CHARS_PER_TOKEN)) if text else 0


@dataclass
class Plan:
    items: int
    tasks: int
    model_calls: int  # distinct requests that are not cached
    cached: int  # items whose response is cached
    prompt_tokens: int  # over the model calls
    tokens_counted_by: str | None  # the tokenizer, or None when estimated from characters
    output_tokens_max: int | None  # the max_tokens bound over the model calls
    output_tokens_typical: int
    typical_source: str
    judge_calls: int  # upper bound on LLM judge calls
    judge_note: str
    seconds: float | None
    time_note: str
    model_spec: str
    cost_max: float | None
    cost_typical: float | None
    cost_note: str
    tokenizer_error: str | None = None  # why the model's tokenizer could not count

    def token_note(self) -> str:
        if self.tokens_counted_by:
            return f"counted with {self.tokens_counted_by}"
        return "estimated as characters/4" + (f"; the tokenizer failed: {self.tokenizer_error}" if self.tokenizer_error else "")

    def cost_text(self) -> str:
        if self.cost_max is None:
            return f"unknown ({self.cost_note})"
        if self.cost_max == 0:
            return f"$0 ({self.cost_note})"
        return f"up to {usd(self.cost_max)}, typically {usd(self.cost_typical or 0)} ({self.cost_note})"

    def first_line(self) -> str:
        """The run's opening line (its wording starts as before plans existed)."""
        when = (f"expected ~{fmt_duration(self.seconds)} ({self.time_note})" if self.seconds is not None
                else self.time_note if self.model_calls == 0 else f"time unknown ({self.time_note})")
        return (f"{self.items} items in {self.tasks} tasks; {self.model_calls} need the model; "
                f"~{self.prompt_tokens:,} prompt tokens ({self.token_note()}); {when}; cost {self.cost_text()}")

    def lines(self) -> list[str]:
        out_max = "unbounded" if self.output_tokens_max is None else f"{self.output_tokens_max:,}"
        when = f"~{fmt_duration(self.seconds)} ({self.time_note})" if self.seconds is not None else self.time_note
        return [
            f"items:          {self.items} in {self.tasks} tasks ({self.cached} with a cached response)",
            f"model calls:    {self.model_calls} to {self.model_spec}",
            f"judge calls:    up to {self.judge_calls} ({self.judge_note})",
            f"prompt tokens:  {self.prompt_tokens:,} ({self.token_note()})",
            f"output tokens:  at most {out_max} (max_tokens bound); typically ~{self.output_tokens_typical:,} ({self.typical_source})",
            f"time:           {when}",
            f"cost:           {self.cost_text()}",
        ]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def usd(x: float) -> str:
    return f"${x:,.2f}" if x >= 0.01 or x == 0 else f"${x:.4f}"


def fmt_duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def judge_requests(planned: Sequence[PlannedLike], response: str = "") -> tuple[list[JudgeRequest], int]:
    """LLM judge requests the planned items can make, and their refusal verdicts: each task's
    judge plan on a placeholder answer (one no rule parses, so every conditional judge counts)
    plus its pair judges."""
    reqs: list[JudgeRequest] = []
    n_refusal = 0
    by_task: dict[str, list[PlannedLike]] = {}
    for p in planned:
        by_task.setdefault(p.task.name, []).append(p)
    for ps in by_task.values():
        task = ps[0].task
        items = []
        for p in ps:
            frozen = task.frozen(p.record)
            for r in task.judges(p.record, response):
                if r.kind == "llm" and r.key not in frozen:
                    reqs.append(r)
                n_refusal += r.kind == "refusal"
            if task.cross_judges is not None:
                items.append(Item(task=task.name, id=p.item_id, index=p.index, record=p.record, response=response,
                                  verdicts=frozen))
        if task.cross_judges is not None:
            reqs += [r for _, r in task.cross_judges(items) if r.kind == "llm"]
    return reqs, n_refusal


def _judge_prompt_chars(req: JudgeRequest, typical_chars: int) -> int:
    """The judge prompt's length: its template plus its fields, an answer taken as typical."""
    try:
        from trustbench.judges.prompts import get_prompt

        template = len(get_prompt(req.template or "").text)
    except Exception:  # an unknown template: count the fields alone
        template = 0
    fields = sum(typical_chars if k.startswith("response") else len(str(v)) for k, v in req.fields.items())
    return template + fields


def make_plan(
    planned: Sequence[PlannedLike],
    cached: Mapping[str, Mapping[str, Any]],
    *,
    model_spec: str,
    judge_spec: str | None,
    refusal_detector: str = "classifier",
    seconds: float | None,
    time_note: str,
    token_counts: Mapping[str, int] | None = None,
    counted_by: str | None = None,
    price_in: float | None = None,
    price_out: float | None = None,
) -> Plan:
    """The plan of a run. `cached` maps keys of planned items to their cached responses;
    `token_counts` maps keys to prompt token counts from the model's tokenizer."""
    todo = {p.key: p for p in planned if p.key not in cached}
    if token_counts is not None and all(k in token_counts for k in todo):
        prompt_tokens = sum(token_counts[k] for k in todo)
    else:
        prompt_tokens, counted_by = sum(estimate_tokens_of(p.messages) for p in todo.values()), None
    bounds = [p.params.max_tokens for p in todo.values()]
    out_max = None if any(b is None for b in bounds) else sum(b for b in bounds if b is not None)
    texts = [str(v.get("text") or "") for k, v in cached.items()]
    if texts:
        per_call = sum(estimate_tokens(t) for t in texts) / len(texts)
        typical_source = f"mean of {len(texts)} cached responses of this model, characters/4"
    else:
        per_call = sum(b or 512 for b in bounds) / (2 * len(bounds)) if bounds else 0.0
        typical_source = "assumed half the bound: no response of this model is cached yet"
    if out_max is not None and bounds:
        per_call = min(per_call, out_max / len(bounds))
    out_typical = round(per_call * len(todo))

    reqs, n_refusal = judge_requests(planned)
    llm_refusal = refusal_detector.startswith("llm:")
    judge_calls = (len(reqs) if judge_spec else 0) + (n_refusal if llm_refusal else 0)
    if judge_spec:
        judge_note = f"{judge_spec}; fewer when answers parse without a judge or verdicts are cached"
    elif reqs:
        judge_note = f"no --judge: {len(reqs)} judged verdicts will be reported as not computed"
    else:
        judge_note = "no metric here needs an LLM judge"
    if llm_refusal:
        judge_note += f"; {n_refusal} refusal verdicts from {refusal_detector[4:]}"

    price = price_for(model_spec, price_in, price_out)
    cost_max = cost_typical = None
    if price is None:
        cost_note = f"no price for {model_spec} in the price table: pass --price-in and --price-out"
    else:
        cost_max = (prompt_tokens * price.input + (out_max or 0) * price.output) / 1e6
        cost_typical = (prompt_tokens * price.input + out_typical * price.output) / 1e6
        if out_max is None:
            cost_max = None
        cost_note = f"{model_spec} at ${price.input:g}/${price.output:g} per million tokens in/out, {price.source}"
        if cost_max is None:
            cost_note = "max_tokens is unbounded; " + cost_note
        if price.input == price.output == 0:
            cost_note = f"{model_spec} {price.source}"
    typical_chars = round(per_call * CHARS_PER_TOKEN)
    judge_work = []  # (judge spec, calls, prompt tokens)
    if judge_spec and reqs:
        judge_work.append((judge_spec, len(reqs),
                           sum(round(_judge_prompt_chars(r, typical_chars) / CHARS_PER_TOKEN) for r in reqs)))
    if llm_refusal and n_refusal:  # the detector's prompt is mostly the answer
        judge_work.append((refusal_detector[4:], n_refusal, round(n_refusal * per_call)))
    for spec, n, jin in judge_work:
        jp = price_for(spec)
        if jp is None:
            cost_max = cost_typical = None
            cost_note = f"no price for judge {spec} in the price table"
            break
        extra = (jin * jp.input + n * JUDGE_MAX_TOKENS * jp.output) / 1e6
        if cost_max is not None:
            cost_max += extra
        if cost_typical is not None:
            cost_typical += extra
        if extra:
            cost_note += f"; judge {spec} ~${extra:,.2f} (judge retries not counted)"
    return Plan(
        items=len(planned), tasks=len({p.task.name for p in planned}), model_calls=len(todo),
        cached=sum(1 for p in planned if p.key in cached), prompt_tokens=prompt_tokens,
        tokens_counted_by=counted_by, output_tokens_max=out_max, output_tokens_typical=out_typical,
        typical_source=typical_source, judge_calls=judge_calls, judge_note=judge_note, seconds=seconds,
        time_note=time_note, model_spec=model_spec, cost_max=cost_max, cost_typical=cost_typical,
        cost_note=cost_note,
    )


def estimate_tokens_of(messages: Sequence[Mapping[str, str]]) -> int:
    return estimate_tokens("".join(m.get("content") or "" for m in messages))


def check_max_cost(plan: Plan, max_cost: float | None) -> None:
    """Refuse a run whose planned cost could exceed --max-cost (one line, before any request)."""
    if max_cost is None:
        return
    if not max_cost >= 0:
        raise TrustbenchError("--max-cost: must be a non-negative number of USD")
    if plan.cost_max is None:
        raise TrustbenchError(f"--max-cost: cannot bound the cost ({plan.cost_note}); not started")
    if plan.cost_max > max_cost:
        raise TrustbenchError(
            f"--max-cost: planned cost up to {usd(plan.cost_max)} is above {usd(max_cost)} "
            f"({plan.model_calls} model calls, ~{plan.prompt_tokens:,} prompt tokens); not started"
        )
