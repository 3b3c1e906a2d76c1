"""`openai-batch:<model>`: the OpenAI Batch API (half price for runs that can wait).

Requests are written as JSONL (custom_id = the request's cache key), uploaded through
/v1/files (purpose "batch"), submitted with /v1/batches, polled, and the output and error
files downloaded. The model's identity equals `openai:<model>`'s, so both share one cache.
Only the engine's batch step (engine/batch_step.py) drives it; `complete` is not available.
"""

from __future__ import annotations

import json
import os
from typing import Any

import aiohttp

from trustbench.errors import SpecError
from trustbench.models.base import Completion, GenParams, Model, ModelError
from trustbench.models.openai_http import RETRYABLE_STATUS, parse_base_urls, printable, redact, snippet

MAX_REQUESTS = 50_000  # OpenAI's per-batch limit
TERMINAL = {"completed", "failed", "expired", "cancelled"}


class OpenAIBatchModel(Model):
    batch_api = True  # the runner generates through engine/batch_step.py

    def __init__(self, model: str, base_url: str | None = None, api_key: str | None = None, *,
                 spec: str | None = None, poll_interval: float | None = None, completion_window: str = "24h"):
        if not model:
            raise SpecError("model spec 'openai-batch:<model>' needs a model name")
        urls = parse_base_urls(base_url) or parse_base_urls(os.environ.get("OPENAI_BASE_URL"))
        if len(urls) > 1:
            raise SpecError("--base-url: openai-batch takes one base URL")
        self.model = model
        self.spec = spec or f"openai-batch:{model}"
        self.base_url = urls[0] if urls else "https://api.openai.com/v1"
        self._key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        env_poll = os.environ.get("TRUSTBENCH_BATCH_POLL_S")
        self.poll_interval = poll_interval if poll_interval is not None else float(env_poll or 30.0)
        self.completion_window = completion_window
        self._client: aiohttp.ClientSession | None = None

    def identity(self) -> dict[str, Any]:
        return {"backend": "openai", "model": self.model}  # same answers as openai:<model>: one cache

    def info(self) -> dict[str, Any]:
        return {**self.identity(), "api": "batch", "completion_window": self.completion_window}

    async def start(self) -> None:
        if self._client is None:
            headers = {"Authorization": f"Bearer {self._key}"} if self._key else {}
            self._client = aiohttp.ClientSession(headers=headers, timeout=aiohttp.ClientTimeout(total=600))

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def complete(self, messages: list[dict[str, str]], params: GenParams) -> Completion:
        raise ModelError(f"{self.spec}: answers through the batch API only (trustbench run drives it)", transient=False)

    def _error(self, reason: str, **kw: Any) -> ModelError:
        return ModelError(printable(redact(reason, self._key)), **kw)

    async def _request(self, method: str, path: str, **kw: Any) -> bytes:
        if self._client is None:
            await self.start()
        assert self._client is not None
        url = f"{self.base_url}{path}"
        try:
            async with self._client.request(method, url, **kw) as resp:
                status, content = resp.status, await resp.read()
        except (TimeoutError, aiohttp.ClientError) as e:
            raise self._error(f"{url}: connection error ({type(e).__name__}: {e})", transient=True) from None
        if status != 200:
            hint = " (check OPENAI_API_KEY)" if status in (401, 403) else ""
            raise self._error(f"{url}: HTTP {status}{hint}: {snippet(content, 200, self._key)}",
                              transient=status in RETRYABLE_STATUS, status=status)
        return content

    async def _json(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        content = await self._request(method, path, **kw)
        try:
            data = json.loads(content)
            assert isinstance(data, dict)
            return data
        except (ValueError, AssertionError):
            raise self._error(f"{self.base_url}{path}: malformed response: {snippet(content, 120, self._key)!r}",
                              transient=True) from None

    def request_line(self, key: str, messages: list[dict[str, str]], params: GenParams) -> str:
        body = {"model": self.model, "messages": messages, **params.to_dict()}
        return json.dumps({"custom_id": key, "method": "POST", "url": "/v1/chat/completions", "body": body},
                          ensure_ascii=False)

    async def submit(self, lines: list[str], metadata: dict[str, str] | None = None) -> dict[str, Any]:
        """Upload the JSONL and create the batch; returns the batch object."""
        form = aiohttp.FormData()
        form.add_field("purpose", "batch")
        form.add_field("file", ("\n".join(lines) + "\n").encode(), filename="trustbench-batch.jsonl",
                       content_type="application/jsonl")
        uploaded = await self._json("POST", "/files", data=form)
        if not isinstance(uploaded.get("id"), str):
            raise self._error(f"{self.base_url}/files: upload answered without a file id", transient=False)
        return await self._json("POST", "/batches", json={
            "input_file_id": uploaded["id"], "endpoint": "/v1/chat/completions",
            "completion_window": self.completion_window, "metadata": metadata or {},
        })

    async def retrieve(self, batch_id: str) -> dict[str, Any]:
        return await self._json("GET", f"/batches/{batch_id}")

    async def results(self, batch: dict[str, Any]) -> dict[str, Completion | str]:
        """Per custom_id: the completion, or why that request failed (output and error files)."""
        out: dict[str, Completion | str] = {}
        for field in ("output_file_id", "error_file_id"):
            file_id = batch.get(field)
            if not file_id:
                continue
            content = await self._request("GET", f"/files/{file_id}/content")
            for n, text in enumerate(content.decode("utf-8", "replace").splitlines(), 1):
                if text.strip():
                    key, value = self._parse_line(text, f"{field} line {n}")
                    if key is not None:
                        out[key] = value
        return out

    def _parse_line(self, text: str, where: str) -> tuple[str | None, Completion | str]:
        try:
            row = json.loads(text)
            key = row["custom_id"]
        except (ValueError, KeyError, TypeError):
            return None, ""
        resp, err = row.get("response") or {}, row.get("error")
        if err or resp.get("status_code") != 200:
            detail = err or (resp.get("body") or {}).get("error") or resp.get("status_code")
            return key, printable(redact(f"batch request failed ({where}): {json.dumps(detail)[:200]}", self._key))
        try:
            choice = resp["body"]["choices"][0]
            text_out = choice["message"]["content"] or ""
            assert isinstance(text_out, str)
        except (KeyError, IndexError, TypeError, AssertionError):
            return key, f"batch request failed ({where}): malformed completion"
        return key, Completion(text=text_out, finish_reason=choice.get("finish_reason"))
