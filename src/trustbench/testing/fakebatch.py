"""A local fake of the OpenAI Batch API (files + batches) for tests: 127.0.0.1 only.

POST /v1/files (multipart, purpose=batch), POST /v1/batches, GET /v1/batches/{id},
GET /v1/files/{id}/content. A batch answers every request with the fake chat server's
deterministic reply (`answer_for`) after `polls_to_complete` polls, unless `hold` is set (it then
stays in_progress). Requests whose prompt contains a string in `fail_prompts` go to the error
file; `expire=True` ends batches as "expired" with no output.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from trustbench.testing.fakeserver import answer_for


@dataclass
class BatchState:
    polls_to_complete: int = 2
    hold: bool = False
    expire: bool = False
    fail_prompts: tuple[str, ...] = ()
    api_key: str | None = None  # when set, requests must carry it
    files: dict[str, bytes] = field(default_factory=dict)
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploads: int = 0
    created: int = 0
    requests_submitted: int = 0
    polls: int = 0


class FakeBatchServer:
    """`with FakeBatchServer() as s: s.url` — an aiohttp app on a background thread."""

    def __init__(self, **state: Any):
        self.state = BatchState(**state)
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> FakeBatchServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _start(self) -> None:
        app = web.Application(middlewares=[self._auth])
        app.router.add_post("/v1/files", self._upload)
        app.router.add_get("/v1/files/{fid}/content", self._content)
        app.router.add_post("/v1/batches", self._create)
        app.router.add_get("/v1/batches/{bid}", self._retrieve)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        key = self.state.api_key
        if key and request.headers.get("Authorization") != f"Bearer {key}":
            return web.json_response({"error": {"message": "Incorrect API key provided"}}, status=401)
        return await handler(request)

    async def _upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload = form.get("file")
        if form.get("purpose") != "batch" or not hasattr(upload, "file"):
            return web.json_response({"error": {"message": "purpose must be batch, with a file"}}, status=400)
        st = self.state
        st.uploads += 1
        fid = f"file-{len(st.files) + 1}"
        st.files[fid] = upload.file.read()  # type: ignore[union-attr]
        return web.json_response({"id": fid, "object": "file", "purpose": "batch", "bytes": len(st.files[fid])})

    async def _content(self, request: web.Request) -> web.Response:
        data = self.state.files.get(request.match_info["fid"])
        if data is None:
            return web.json_response({"error": {"message": "no such file"}}, status=404)
        return web.Response(body=data, content_type="application/octet-stream")

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        st = self.state
        if body.get("input_file_id") not in st.files or body.get("endpoint") != "/v1/chat/completions":
            return web.json_response({"error": {"message": "bad input_file_id or endpoint"}}, status=400)
        lines = [json.loads(x) for x in st.files[body["input_file_id"]].decode().splitlines() if x.strip()]
        st.created += 1
        st.requests_submitted += len(lines)
        bid = f"batch_{st.created}"
        st.batches[bid] = {"id": bid, "object": "batch", "status": "validating", "input_file_id": body["input_file_id"],
                           "endpoint": body["endpoint"], "created_at": int(time.time()), "polls": 0,
                           "output_file_id": None, "error_file_id": None,
                           "request_counts": {"total": len(lines), "completed": 0, "failed": 0}}
        return web.json_response(self._public(st.batches[bid]))

    async def _retrieve(self, request: web.Request) -> web.Response:
        st = self.state
        b = st.batches.get(request.match_info["bid"])
        if b is None:
            return web.json_response({"error": {"message": "no such batch"}}, status=404)
        st.polls += 1
        b["polls"] += 1
        if b["status"] not in ("completed", "expired"):
            if st.hold or b["polls"] < st.polls_to_complete:
                b["status"] = "in_progress"
            else:
                self._finish(b)
        return web.json_response(self._public(b))

    def _finish(self, b: dict[str, Any]) -> None:
        st = self.state
        if st.expire:
            b["status"] = "expired"
            return
        out, err = [], []
        for line in st.files[b["input_file_id"]].decode().splitlines():
            if not line.strip():
                continue
            req = json.loads(line)
            prompt = req["body"]["messages"][-1]["content"]
            if any(f in prompt for f in st.fail_prompts):
                err.append({"id": f"r-{len(err)}", "custom_id": req["custom_id"], "response": {
                    "status_code": 400, "body": {"error": {"message": "invalid request"}}}, "error": None})
                continue
            text = answer_for(prompt)
            out.append({"id": f"r-{len(out)}", "custom_id": req["custom_id"], "error": None, "response": {
                "status_code": 200, "request_id": f"q-{len(out)}", "body": {
                    "id": "chatcmpl-fake", "object": "chat.completion", "model": req["body"]["model"],
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]}}})
        for key, rows in (("output_file_id", out), ("error_file_id", err)):
            if rows:
                fid = f"file-{len(st.files) + 1}"
                st.files[fid] = "".join(json.dumps(r) + "\n" for r in rows).encode()
                b[key] = fid
        b["status"] = "completed"
        b["request_counts"] = {"total": len(out) + len(err), "completed": len(out), "failed": len(err)}

    @staticmethod
    def _public(b: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in b.items() if k != "polls"}
