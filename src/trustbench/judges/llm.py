"""`ChatLLMJudge`: fills a versioned judge prompt, asks any chat model, validates the reply.

- One user message, temperature 0, a short `max_tokens` (the reply is one label).
- Transport errors (HTTP 429/5xx, timeouts, connection errors) are retried by the `Scheduler`
  with backoff; a permanent error becomes `LLMVerdict(None, error=<reason>)`.
- A reply that is not exactly one allowed label is asked again, up to `max_attempts` asks in all;
  each retry appends a short reminder to the prompt and has its own cache key (attempt number),
  so reruns replay the same sequence. After the last attempt the verdict is
  `LLMVerdict(None, error="unparseable after N attempts: '<reply>'")`: never a silent None.
- Every reply, parseable or not, is committed to the SQLite cache as it arrives, under
  `cache_key("judge", model identity, template name, template version, fields, params, attempt)`.

Caching, retries and re-asking are the judge wrapper's (`trustbench.core.judge.CachedJudge`,
through `judges.chat.ChatJudge`), the same code that runs every other judge.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trustbench.core.cache import Cache
from trustbench.core.judge import Query, Verdict
from trustbench.core.scheduler import Scheduler
from trustbench.judges.base import LLMJudge, LLMVerdict
from trustbench.judges.chat import ChatJudge
from trustbench.judges.prompts import PROMPTS, JudgePrompt, get_prompt
from trustbench.models.base import GenParams, Model

NONE_SPECS = {"", "none", "off", "no"}


class ChatLLMJudge(ChatJudge, LLMJudge):
    """An LLM judge over any `Model` (openai:<model>, local:..., hf:...)."""

    kind = "llm"
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
        self.prompts = dict(prompts) if prompts is not None else dict(PROMPTS)
        self.name = model.spec
        super().__init__(model, cache, scheduler, params=GenParams(temperature=0.0, max_tokens=max_tokens),
                         max_attempts=max_attempts)

    def identity(self) -> dict[str, Any]:
        return {
            "kind": "llm",
            "name": self.model.spec,
            "version": self.version,
            "model": self.model.identity(),
            "params": self.params.to_dict(),
            "max_attempts": self.max_attempts,
            "prompts": {name: p.version for name, p in sorted(self.prompts.items())},
        }

    def _prompt(self, template: str | None) -> JudgePrompt:
        if template in self.prompts:
            return self.prompts[template]
        return get_prompt(template or "")  # raises SpecError naming the known templates

    def cache_parts(self, query: Query, attempt: int) -> tuple[Any, ...]:
        prompt = self._prompt(query.template)
        prompt.render(query.fields)  # validate the fields before anything else (SpecError: a task bug)
        return ("judge", self.model.identity(), prompt.name, prompt.version, dict(query.fields),
                self.params.to_dict(), attempt)

    def messages(self, query: Query, attempt: int) -> list[dict[str, str]]:
        return [{"role": "user", "content": self._prompt(query.template).render(query.fields, attempt)}]

    def record(self, query: Query, reply: str, attempt: int) -> dict[str, Any]:
        prompt = self._prompt(query.template)
        return {"reply": reply, "label": prompt.parse(reply), "template": prompt.name,
                "version": prompt.version, "attempt": attempt}

    def parse(self, query: Query, reply: str) -> Verdict | None:
        label = self._prompt(query.template).parse(reply)
        return None if label is None else Verdict(label)

    async def judge(self, template: str, fields: Mapping[str, Any]) -> LLMVerdict:
        """One verdict; raises SpecError for an unknown template or wrong fields (a task bug)."""
        (v,) = await self.runner.run([Query(template=template, fields=dict(fields))])
        return LLMVerdict(v.value, v.error, raw=v.raw)


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
