"""`litellm:<model>`: any provider LiteLLM speaks (`litellm:bedrock/...`, `litellm:gemini/...`...),
under trustbench's engine: LiteLLM's own retries are off, its errors are mapped to ModelError
(429/503 shrink the adaptive concurrency, transient errors are retried by the scheduler), and
responses are cached like any other backend's. Keys come from the provider's usual environment
variables (read by LiteLLM) and are redacted from every error. Needs the `litellm` extra.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

from trustbench.errors import SpecError, TrustbenchError
from trustbench.models.base import Completion, GenParams, Model, ModelError
from trustbench.models.openai_http import OVERLOAD_STATUS, RETRYABLE_STATUS, printable, redact

TRANSIENT_NAMES = ("RateLimit", "ServiceUnavailable", "Timeout", "APIConnection", "InternalServer",
                   "BadGateway", "Overloaded")


def _secrets() -> list[str]:
    """Values of the environment's API keys and tokens (what LiteLLM may send)."""
    return [v for k, v in os.environ.items() if v and len(v) >= 8 and k.upper().endswith(("_KEY", "_TOKEN", "_SECRET"))]


class LiteLLMModel(Model):
    def __init__(self, model: str, *, spec: str | None = None, base_url: str | None = None):
        if not model:
            raise SpecError("model spec 'litellm:<model>' needs a model name")
        self.model = model
        self.spec = spec or f"litellm:{model}"
        if importlib.util.find_spec("litellm") is None:
            raise SpecError(f"model {self.spec}: litellm is not installed: pip install 'trustbench[litellm]'")
        self.base_url = base_url
        self._litellm: Any = None

    def identity(self) -> dict[str, Any]:
        return {"backend": "litellm", "model": self.model}

    async def start(self) -> None:
        if self._litellm is None:
            # LiteLLM fetches its model price map from GitHub on import unless told not to
            os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            try:
                import litellm
            except ImportError:  # found by find_spec but broken
                raise TrustbenchError(f"model {self.spec}: litellm does not import: pip install 'trustbench[litellm]'") from None
            litellm.suppress_debug_info = True
            litellm.telemetry = False
            self._litellm = litellm

    def _error(self, e: Exception) -> ModelError:
        status = getattr(e, "status_code", None)
        status = status if isinstance(status, int) else None
        name = type(e).__name__
        text = str(e).splitlines()[0] if str(e) else name
        for secret in _secrets():
            text = redact(text, secret)
        transient = (status in RETRYABLE_STATUS) if status else any(n in name for n in TRANSIENT_NAMES)
        retry_after = None
        headers = getattr(getattr(e, "response", None), "headers", None)
        if headers is not None and headers.get("retry-after"):
            try:
                retry_after = max(0.0, float(headers["retry-after"]))
            except ValueError:
                pass
        return ModelError(
            printable(f"litellm {self.model}: {name}" + (f" (HTTP {status})" if status else "") + f": {text[:200]}"),
            transient=transient, retry_after=retry_after, overload=status in OVERLOAD_STATUS or "RateLimit" in name,
            status=status,
        )

    async def complete(self, messages: list[dict[str, str]], params: GenParams) -> Completion:
        if self._litellm is None:
            await self.start()
        kw: dict[str, Any] = {"model": self.model, "messages": messages, "num_retries": 0, "drop_params": True,
                              **params.to_dict()}
        if self.base_url:
            kw["api_base"] = self.base_url
        try:
            resp = await self._litellm.acompletion(**kw)
        except Exception as e:  # LiteLLM raises its own (OpenAI-style) exception classes
            raise self._error(e) from None
        try:
            choice = resp.choices[0]
            text = choice.message.content or ""
        except (AttributeError, IndexError, TypeError):
            raise ModelError(f"litellm {self.model}: malformed response", transient=True) from None
        usage = getattr(resp, "usage", None)
        return Completion(
            text=str(text),
            finish_reason=getattr(choice, "finish_reason", None),
            prompt_tokens=getattr(usage, "prompt_tokens", None),
            completion_tokens=getattr(usage, "completion_tokens", None),
        )
