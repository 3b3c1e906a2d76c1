"""`anthropic:<model>`: Anthropic's Messages API over HTTP, under the same engine as openai:.

The request is POST {base}/v1/messages with the key in `x-api-key` (never in a URL, a log or
an error: errors are redacted as for openai:) and `anthropic-version`. System messages move to
the top-level `system` field; `max_tokens` is required by the API (1024 when a task sets none).
The API's own back-pressure is honoured: 429 and 529 (overloaded) shrink the adaptive
concurrency; the wait is `retry-after`, else the nearest `anthropic-ratelimit-*-reset` time.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import aiohttp

from trustbench.models.base import Completion, GenParams
from trustbench.models.openai_http import RETRYABLE_STATUS, OpenAIChatModel, _retry_after, snippet

API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 1024
RESET_HEADERS = (
    "anthropic-ratelimit-requests-reset",
    "anthropic-ratelimit-tokens-reset",
    "anthropic-ratelimit-input-tokens-reset",
    "anthropic-ratelimit-output-tokens-reset",
)
FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length"}


def reset_delay(headers: Any, now: dt.datetime | None = None) -> float | None:
    """Seconds until the earliest future `anthropic-ratelimit-*-reset` (RFC 3339), or None."""
    now = now or dt.datetime.now(dt.UTC)
    delays = []
    for name in RESET_HEADERS:
        value = headers.get(name)
        if not value:
            continue
        try:
            when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            continue
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        delays.append((when - now).total_seconds())
    future = [d for d in delays if d > 0]
    return min(future) if future else None


class AnthropicModel(OpenAIChatModel):
    """Messages API; load-balancing, redaction and error classes as in OpenAIChatModel."""

    backend = "anthropic"
    path = "/v1/messages"
    key_env = "ANTHROPIC_API_KEY"
    url_env = "ANTHROPIC_BASE_URL"
    default_url = "https://api.anthropic.com"
    retryable_status = RETRYABLE_STATUS | {529}
    overload_status = frozenset({429, 503, 529})

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "anthropic-version": API_VERSION}
        if self._key:
            headers["x-api-key"] = self._key
        return headers

    def _body(self, messages: list[dict[str, str]], params: GenParams) -> dict[str, Any]:
        system = "\n\n".join(m["content"] for m in messages if m.get("role") == "system")
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [m for m in messages if m.get("role") != "system"],
            "max_tokens": params.max_tokens or DEFAULT_MAX_TOKENS,
            "temperature": params.temperature,
        }
        if system:
            body["system"] = system
        if params.top_p is not None:
            body["top_p"] = params.top_p
        return body  # the Messages API has no seed

    def _retry_after(self, resp: aiohttp.ClientResponse) -> float | None:
        after = _retry_after(resp)
        if after is None and resp.status in self.overload_status:
            after = reset_delay(resp.headers)
        return after

    def _parse(self, url: str, content: bytes) -> Completion:
        try:
            data = json.loads(content)
            blocks = data["content"]
            text = "".join(b["text"] for b in blocks if b.get("type") == "text")
        except (ValueError, KeyError, TypeError):
            raise self._error(
                f"{url}: malformed messages response: {snippet(content, 120, self._key)!r}", transient=True
            ) from None
        if not isinstance(text, str):
            raise self._error(f"{url}: message content is not text", transient=True)
        usage = data.get("usage") or {}
        stop = data.get("stop_reason")
        return Completion(
            text=text,
            finish_reason=FINISH.get(stop, stop),
            prompt_tokens=usage.get("input_tokens"),
            completion_tokens=usage.get("output_tokens"),
        )
