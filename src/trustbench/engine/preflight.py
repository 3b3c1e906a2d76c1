"""`trustbench plan` and the opening line of `trustbench run`: the run's plan (trustbench.plan)
from the same options, data and cache as the run, without calling the model."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from trustbench.engine.config import RunConfig, open_cache
from trustbench.engine.plan import Planned, load_datasets, plan
from trustbench.engine.rates import estimate_seconds
from trustbench.errors import TrustbenchError
from trustbench.models.base import Model
from trustbench.plan import Plan, check_max_cost, check_prices, make_plan


def _plan(planned: Sequence[Planned], cached: Mapping[str, Any], cfg: RunConfig, seconds: float | None, why: str,
          counts: dict[str, int] | None = None, counted_by: str | None = None) -> Plan:
    """The plan of `planned`, of which the cache already answers `cached` (responses by key)."""
    check_prices(cfg.price_in, cfg.price_out)
    return make_plan(
        planned, cached, model_spec=cfg.model, judge_spec=cfg.judge, refusal_detector=cfg.refusal_detector,
        seconds=seconds, time_note=why, token_counts=counts, counted_by=counted_by,
        price_in=cfg.price_in, price_out=cfg.price_out,
    )


def first_line_or_refuse(planned: Sequence[Planned], cached: Mapping[str, Any], cfg: RunConfig,
                         seconds: float | None, why: str) -> str:
    """The plan's first line for `run`; raises TrustbenchError when it could cost more than --max-cost."""
    p = _plan(planned, cached, cfg, seconds, why)
    check_max_cost(p, cfg.max_cost)
    return p.first_line()


async def plan_async(cfg: RunConfig, model: Model | None = None, *, count_tokens: bool = True) -> Plan:
    """The plan of `trustbench run` with these options. With `count_tokens`, a backend with a
    local tokenizer counts the prompts (a local GGUF model's server is started for it)."""
    _, _, datasets = load_datasets(cfg)
    if model is None:
        from trustbench.models.spec import load_model

        model = load_model(cfg.model, base_url=cfg.base_url)
    cache = open_cache(cfg.cache)
    try:
        planned = plan(datasets, model, cfg)
        stored = cache.get_many(list({p.key for p in planned}))
        todo = list({p.key: p for p in planned if p.key not in stored}.values())
        seconds, why = estimate_seconds(model, cfg.suite, len(todo))
        counts = counted_by = failed = None
        if count_tokens and todo:
            try:
                got = await model.count_tokens([p.messages for p in todo])
            except TrustbenchError as e:  # no tokenizer after all: the plan estimates and says why
                got, failed = None, str(e)
            finally:
                await model.aclose()
            if got is not None:
                counts = {p.key: n for p, n in zip(todo, got[0], strict=True)}
                counted_by = got[1]
        result = _plan(planned, stored, cfg, seconds, why, counts, counted_by)
        result.tokenizer_error = failed
        return result
    finally:
        cache.close()


def plan_run(cfg: RunConfig, model: Model | None = None, *, count_tokens: bool = True) -> Plan:
    return asyncio.run(plan_async(cfg, model, count_tokens=count_tokens))
