"""`ChatLLMJudge`: fills a versioned judge prompt, asks any chat model, validates the reply.

- One user message, temperature 0, a short `max_tokens` (the reply is one label).
- Transport errors (HTTP 429/5xx, timeouts, connection errors) are retried by the `Scheduler`
  with backoff; a permanent error becomes `LLMVerdict(None, error=<reason>)`.
- A reply that is not exactly one allowed label is retried up to `max_attempts` times in all;
  each retry appends a short reminder to the prompt and has its own cache key (attempt number),
  so reruns replay the same sequence. After the last attempt the verdict is
  `LLMVerdict(None, error="unparseable after N attempts: '<reply>'")`: never a silent None.
- Every reply, parseable or not, is committed to the SQLite cache as it arrives, under
  `cache_key("judge", model identity, template name, template version, fields, params, attempt)`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Self

from trustbench.engine.cache import Cache, cache_key
from trustbench.engine.scheduler import AdaptiveLimiter, RetryPolicy, Scheduler
from trustbench.judges.base import LLMJudge, LLMVerdict
from trustbench.judges.prompts import PROMPTS, JudgePrompt, get_prompt
from trustbench.models.base import GenParams, Model, ModelError

NONE_SPECS = {"", "none", "off", "no"}


class ChatLLMJudge(LLMJudge):
    """An LLM judge over any `Model` (openai:<model>, local:..., hf:...)."""

    version = "1"

    def __init__(
        self,
        model: Model,
        cache: Cache | None = None,
        scheduler: Scheduler | None = None,
        *,
        max_attempts: int = 3,
        max_tokens: int | None = 32,
        prompts: Mapping[str, JudgePrompt] | None = None,
    ):
        self.model = model
        self.cache = cache
        self.scheduler = scheduler or Scheduler(AdaptiveLimiter(initial=8, maximum=64), RetryPolicy(timeout=120.0))
        self.max_attempts = max(1, max_attempts)
        self.params = GenParams(temperature=0.0, max_tokens=max_tokens)
        self.prompts = dict(prompts) if prompts is not None else dict(PROMPTS)
        self._started = False
        self._start_lock: asyncio.Lock | None = None
        self._inflight: dict[str, asyncio.Future[LLMVerdict]] = {}
        self.requests = 0  # model calls made (cache misses)
        self.cache_hits = 0
        self.unparseable = 0  # replies that were not exactly one label
        self.failures = 0  # verdicts that ended with an error

    # -- identity and lifecycle --------------------------------------------------------------

    def identity(self) -> dict[str, Any]:
        return {
            "kind": "llm",
            "name": self.model.spec,
            "version": self.version,
            "model": self.model.identity(),
            "params": self.params.to_dict(),
            "max_attempts": self.max_attempts,
            "prompts": {name: p.version for name, p in self.prompts.items()},
        }

    async def start(self) -> None:
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            if not self._started:
                await self.model.start()
                self._started = True

    async def aclose(self) -> None:
        if self._started:
            self._started = False
            await self.model.aclose()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- judging -----------------------------------------------------------------------------

    def _prompt(self, template: str) -> JudgePrompt:
        if template in self.prompts:
            return self.prompts[template]
        return get_prompt(template)  # raises SpecError naming the known templates

    def _key(self, prompt: JudgePrompt, fields: Mapping[str, Any], attempt: int) -> str:
        return cache_key(
            "judge",
            self.model.identity(),
            prompt.name,
            prompt.version,
            dict(fields),
            self.params.to_dict(),
            attempt,
        )

    async def judge(self, template: str, fields: Mapping[str, Any]) -> LLMVerdict:
        """One verdict; raises SpecError for an unknown template or wrong fields (a task bug)."""
        prompt = self._prompt(template)
        prompt.render(fields)  # validate fields before anything else
        base = self._key(prompt, fields, 0)
        pending = self._inflight.get(base)
        if pending is not None:  # the same question is already being asked
            return await asyncio.shield(pending)
        fut: asyncio.Future[LLMVerdict] = asyncio.get_running_loop().create_future()
        self._inflight[base] = fut
        try:
            verdict = await self._judge(prompt, fields)
        except BaseException as e:
            fut.set_exception(e)
            fut.exception()  # mark retrieved
            raise
        finally:
            self._inflight.pop(base, None)
        fut.set_result(verdict)
        return verdict

    async def _judge(self, prompt: JudgePrompt, fields: Mapping[str, Any]) -> LLMVerdict:
        last = ""
        for attempt in range(self.max_attempts):
            key = self._key(prompt, fields, attempt)
            hit = self.cache.get(key) if self.cache is not None else None
            if hit is not None and isinstance(hit.get("reply"), str):
                self.cache_hits += 1
                reply = hit["reply"]
            else:
                messages = [{"role": "user", "content": prompt.render(fields, attempt)}]
                try:
                    reply = await self._ask(messages)
                except ModelError as e:
                    self.failures += 1
                    return LLMVerdict(None, error=f"judge {self.model.spec}: {e.reason}")
                if self.cache is not None:
                    self.cache.put(
                        key,
                        {"reply": reply, "label": prompt.parse(reply), "template": prompt.name,
                         "version": prompt.version, "attempt": attempt},
                        kind="judge",
                    )
            label = prompt.parse(reply)
            if label is not None:
                return LLMVerdict(label)
            self.unparseable += 1
            last = reply
        self.failures += 1
        shown = last if len(last) <= 120 else last[:117] + "..."
        return LLMVerdict(None, error=f"unparseable after {self.max_attempts} attempts: {shown!r}")

    async def _ask(self, messages: list[dict[str, str]]) -> str:
        if not self._started:
            await self.start()
        self.requests += 1
        completion = await self.scheduler.call(lambda: self.model.complete(messages, self.params))
        return completion.text


def make_llm_judge(
    spec: str | None,
    cache: Cache | None,
    base_url: str | None = None,
    *,
    scheduler: Scheduler | None = None,
    max_attempts: int = 3,
) -> ChatLLMJudge | None:
    """The judge a model spec names (openai:<model>, local:smollm2, ...), or None for no judge."""
    if spec is None or spec.strip().lower() in NONE_SPECS:
        return None
    from trustbench.models.spec import load_model

    model = load_model(spec.strip(), base_url=base_url)
    return ChatLLMJudge(model, cache, scheduler, max_attempts=max_attempts)
