"""`openai:<model>`: any OpenAI-compatible chat-completions server over HTTP.

Several base URLs are load-balanced by least outstanding requests. The API key is sent in
the Authorization header only and redacted from every error message. The transport is
aiohttp: measured in bench/, it sustains several times httpx's request rate at high concurrency.
"""

from __future__ import annotations

import json
import os
from typing import Any

import aiohttp

from trustbench.errors import SpecError
from trustbench.models.base import Completion, GenParams, Model, ModelError

RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
OVERLOAD_STATUS = {429, 503}


def redact(text: str, secret: str | None) -> str:
    """Remove a secret (and its Bearer form) from text that may be shown or stored."""
    if secret:
        text = text.replace(secret, "***")
    return text


def snippet(content: bytes, limit: int, secret: str | None) -> str:
    """A one-line, printable excerpt of an untrusted body: the secret is redacted from the
    whole body before it is cut (a cut must not leave part of the key), control characters
    (terminal escapes, newlines) are shown as \\xNN."""
    return printable(redact(content.decode("utf-8", "replace"), secret)[:limit])


def printable(text: str) -> str:
    """Untrusted text made safe for a terminal: control characters become \\xNN."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" if ord(c) < 256 else " " for c in text)


def _retry_after(resp: aiohttp.ClientResponse) -> float | None:
    value = resp.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # HTTP-date form: fall back to backoff


def parse_base_urls(value: str | None) -> list[str]:
    urls = [u.strip().rstrip("/") for u in (value or "").split(",") if u.strip()]
    for u in urls:
        if not u.startswith(("http://", "https://")):
            raise SpecError(f"--base-url: {u!r} is not an http(s) URL")
    return urls


class OpenAIChatModel(Model):
    """Chat completions against one or more OpenAI-compatible endpoints.

    Subclasses for other HTTP chat APIs override the class attributes and the `_headers`,
    `_body`, `_retry_after` and `_parse` hooks (see anthropic_http.py)."""

    backend = "openai"
    path = "/chat/completions"
    key_env = "OPENAI_API_KEY"
    url_env = "OPENAI_BASE_URL"
    default_url = "https://api.openai.com/v1"
    retryable_status = RETRYABLE_STATUS
    overload_status = OVERLOAD_STATUS

    def __init__(
        self,
        model: str,
        base_urls: list[str] | None = None,
        api_key: str | None = None,
        *,
        spec: str | None = None,
        max_connections: int = 512,
        extra_identity: dict[str, Any] | None = None,
    ):
        if not model:
            raise SpecError(f"model spec '{self.backend}:<model>' needs a model name")
        self.model = model
        self.spec = spec or f"{self.backend}:{model}"
        env_urls = os.environ.get(self.url_env)
        self.base_urls = base_urls or parse_base_urls(env_urls) or [self.default_url]
        self._key = api_key if api_key is not None else os.environ.get(self.key_env)
        self._outstanding = dict.fromkeys(self.base_urls, 0)
        self._max_connections = max_connections
        self._client: aiohttp.ClientSession | None = None
        self._extra_identity = extra_identity or {}
        self.requests_sent = 0

    def identity(self) -> dict[str, Any]:
        return {"backend": self.backend, "model": self.model, **self._extra_identity}

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        return headers

    def _body(self, messages: list[dict[str, str]], params: GenParams) -> dict[str, Any]:
        return {"model": self.model, "messages": messages, **params.to_dict()}

    def _retry_after(self, resp: aiohttp.ClientResponse) -> float | None:
        return _retry_after(resp)

    async def start(self) -> None:
        if self._client is None:
            headers = self._headers()
            connector = aiohttp.TCPConnector(limit=self._max_connections)
            self._client = aiohttp.ClientSession(
                headers=headers, connector=connector, timeout=aiohttp.ClientTimeout(total=None)
            )

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    def _pick_url(self) -> str:
        return min(self.base_urls, key=self._outstanding.__getitem__)

    def _error(self, reason: str, **kw: Any) -> ModelError:
        return ModelError(printable(redact(reason, self._key)), **kw)

    async def complete(self, messages: list[dict[str, str]], params: GenParams) -> Completion:
        return await self.complete_at(self._pick_url(), messages, params)

    async def complete_at(self, url: str, messages: list[dict[str, str]], params: GenParams) -> Completion:
        """One chat completion from the endpoint `url` (one of base_urls)."""
        if self._client is None:
            await self.start()
        assert self._client is not None
        body = self._body(messages, params)
        self._outstanding[url] += 1
        self.requests_sent += 1
        try:
            async with self._client.post(f"{url}{self.path}", json=body) as resp:
                status = resp.status
                content = await resp.read()
                retry_after = self._retry_after(resp)
        except TimeoutError:
            raise self._error(f"{url}: request timed out", transient=True) from None
        except aiohttp.ClientError as e:
            raise self._error(f"{url}: connection error ({type(e).__name__}: {e})", transient=True) from None
        finally:
            self._outstanding[url] -= 1
        if status != 200:
            excerpt = snippet(content, 200, self._key)
            if status in (401, 403):
                reason = f"{url}: HTTP {status} (check {self.key_env}): {excerpt}"
            else:
                reason = f"{url}: HTTP {status}: {excerpt}"
            raise self._error(
                reason,
                transient=status in self.retryable_status,
                retry_after=retry_after,
                overload=status in self.overload_status,
                status=status,
            )
        return self._parse(url, content)

    def _parse(self, url: str, content: bytes) -> Completion:
        try:
            data = json.loads(content)
            choice = data["choices"][0]
            text = choice["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise self._error(
                f"{url}: malformed completion response: {snippet(content, 120, self._key)!r}", transient=True
            ) from None
        if text is None:
            text = ""
        if not isinstance(text, str):
            raise self._error(f"{url}: completion content is not a string", transient=True)
        usage = data.get("usage") or {}
        return Completion(
            text=text,
            finish_reason=choice.get("finish_reason"),
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
        )
