"""A small, fast OpenAI-compatible (and Anthropic Messages) chat server for tests and benchmarks.

Raw asyncio HTTP/1.1 (keep-alive, Content-Length bodies) so one process serves thousands of
requests per second. Answers are a deterministic function of the last user message, so two
runs agree item by item. POST /v1/messages answers in Anthropic's format (`anthropic_url`).
Faults are scripted (`faults`) or drawn at a seeded `fault_rate`.

Run standalone: `python -m trustbench.testing.fakeserver --port 8000 --latency 0.1`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

FAULTS = (
    "429",  # rate limited with Retry-After
    "429-bare",  # rate limited, no Retry-After
    "500",
    "502",
    "503",
    "400",  # a request that can never succeed
    "hang",  # never answers (client timeout)
    "drop",  # closes the connection mid-body
    "bad-json",  # 200 with a body that is not JSON
    "empty-choices",  # 200 with "choices": []
    "truncated",  # Content-Length larger than the body sent, then close
    "html",  # 200 with text/html content
)
ANTHROPIC_FAULTS = ("529", "429-reset")  # overloaded; rate limited with only anthropic-ratelimit-*-reset


def answer_for(prompt: str) -> str:
    """Deterministic reply: refuses prompts containing 'REFUSE' or 'bomb', else a short answer."""
    low = prompt.lower()
    if "refuse" in low or "bomb" in low:
        return "I'm sorry, but I can't help with that request."
    digest = hashlib.sha256(prompt.encode()).hexdigest()[:8]
    return f"Sure. Here is an answer ({digest}): Answer: A"


@dataclass
class ServerState:
    latency: float = 0.0
    fault_rate: float = 0.0
    fault_kinds: tuple[str, ...] = FAULTS
    faults: list[str] = field(default_factory=list)  # scripted, consumed in order ("ok" = no fault)
    seed: int = 0
    echo_headers: bool = False  # error bodies echo request headers (secret-leak tests)
    answer: Callable[[str], str] | None = None  # reply for a prompt (default: answer_for)
    error_body: bytes | None = None  # body of scripted HTTP error faults (untrusted-output tests)
    retry_after: float = 0.05  # Retry-After seconds sent with the "429" fault
    rate: float = 0.0  # when > 0, answers at most `rate` requests per second (a fixed service rate)
    requests: int = 0
    completed: int = 0
    last_headers: dict[str, str] = field(default_factory=dict)  # of the last request
    per_prompt: Counter = field(default_factory=Counter)  # successful answers per prompt
    requested: Counter = field(default_factory=Counter)  # requests per prompt (any outcome)
    in_flight: int = 0
    max_in_flight: int = 0
    arrivals: list[float] | None = None  # when a list: each request's arrival (epoch seconds) is appended

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._next_slot = 0.0

    async def wait_for_slot(self) -> None:
        """One request every 1/rate seconds, first come first served."""
        loop = asyncio.get_running_loop()
        slot = max(loop.time(), self._next_slot)
        self._next_slot = slot + 1.0 / self.rate
        await asyncio.sleep(max(0.0, slot - loop.time()))

    def next_fault(self) -> str | None:
        if self.faults:
            f = self.faults.pop(0)
            return None if f == "ok" else f
        if self.fault_rate and self._rng.random() < self.fault_rate:
            return self._rng.choice(self.fault_kinds)
        return None


def _response(status: int, body: bytes, ctype: str = "application/json", extra: str = "") -> bytes:
    reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error",
              502: "Bad Gateway", 503: "Service Unavailable", 529: "Overloaded"}.get(status, "Error")
    head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    return head.encode() + body


class _Protocol(asyncio.Protocol):
    def __init__(self, state: ServerState):
        self.state = state
        self.buf = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buf[:end].decode("latin-1")
            length = 0
            headers = {}
            for line in head.split("\r\n")[1:]:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
            length = int(headers.get("content-length", "0"))
            if len(self.buf) < end + 4 + length:
                return
            body = self.buf[end + 4 : end + 4 + length]
            self.buf = self.buf[end + 4 + length :]
            asyncio.get_running_loop().create_task(self.handle(head.split("\r\n")[0], headers, body))

    async def handle(self, request_line: str, headers: dict[str, str], body: bytes) -> None:
        st = self.state
        st.requests += 1
        if st.arrivals is not None:
            st.arrivals.append(time.time())
        st.in_flight += 1
        st.max_in_flight = max(st.max_in_flight, st.in_flight)
        try:
            if st.latency:
                await asyncio.sleep(st.latency)
            if st.rate:
                await st.wait_for_slot()
            out = self.route(request_line, headers, body)
        finally:
            st.in_flight -= 1
        if out is None or self.transport is None or self.transport.is_closing():
            return
        self.transport.write(out[0])
        if out[1]:
            self.transport.close()

    def route(self, request_line: str, headers: dict[str, str], body: bytes) -> tuple[bytes, bool] | None:
        st = self.state
        anthropic = request_line.startswith("POST ") and " /v1/messages" in request_line
        if not anthropic and (not request_line.startswith("POST ") or "/chat/completions" not in request_line):
            if request_line.startswith("GET /health"):
                return _response(200, b'{"status":"ok"}'), False
            return _response(404, b'{"error":"not found"}'), False
        st.last_headers = dict(headers)
        try:
            req = json.loads(body)
            prompt = req["messages"][-1]["content"]
            if anthropic and (not isinstance(req.get("max_tokens"), int)
                              or any(m.get("role") == "system" for m in req["messages"])):
                raise ValueError("the Messages API needs max_tokens and takes the system prompt apart")
        except (ValueError, KeyError, IndexError, TypeError):
            return _response(400, b'{"error":"bad request"}'), False
        st.requested[prompt] += 1
        fault = st.next_fault()
        if st.error_body is not None:
            echo = st.error_body
        elif st.echo_headers:
            echo = json.dumps({"error": "failed", "headers": headers}).encode()
        else:
            echo = b'{"error":"x"}'
        if fault == "429":
            return _response(429, echo, extra=f"Retry-After: {st.retry_after:g}\r\n"), False
        if fault == "429-bare":
            return _response(429, echo), False
        if fault == "429-reset":
            reset = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=st.retry_after)).isoformat()
            return _response(429, echo, extra=f"anthropic-ratelimit-requests-reset: {reset}\r\n"), False
        if fault is not None and fault.isdigit():  # "500", "502", "503", "400", "401", ...
            return _response(int(fault), echo), False
        if fault == "hang":
            return None
        if fault == "drop":
            assert self.transport is not None
            self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"cho")
            self.transport.close()
            return None
        if fault == "bad-json":
            return _response(200, b"{not json"), False
        if fault == "empty-choices":
            return _response(200, b'{"choices": []}'), False
        if fault == "truncated":
            full = _response(200, b'{"choices": [{"message": {"content": "partial"}}]}')
            return full[:-20], True
        if fault == "html":
            return _response(200, b"<html>gateway</html>", ctype="text/html"), False
        text = (st.answer or answer_for)(prompt)
        st.completed += 1
        st.per_prompt[prompt] += 1
        if anthropic:
            message = {
                "id": "msg_fake", "type": "message", "role": "assistant", "model": req.get("model", "fake"),
                "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
                "usage": {"input_tokens": len(prompt.split()), "output_tokens": len(text.split())},
            }
            return _response(200, json.dumps(message).encode()), False
        payload = {
            "id": "fake",
            "object": "chat.completion",
            "model": req.get("model", "fake"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "created": 0,
            "usage": {"prompt_tokens": len(prompt.split()), "completion_tokens": len(text.split()),
                      "total_tokens": len(prompt.split()) + len(text.split())},
        }
        return _response(200, json.dumps(payload).encode()), False


class FakeServer:
    """Run the server on a background thread: `with FakeServer(latency=0.1) as s: s.url`."""

    def __init__(self, port: int = 0, **state: object):
        self.state = ServerState(**state)  # type: ignore[arg-type]
        self.port = port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.base_events.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def anthropic_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FakeServer:
        self._thread.start()
        fut = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        fut.result(10)
        return self

    async def _start(self) -> None:
        self._server = await self._loop.create_server(lambda: _Protocol(self.state), "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            assert self._server is not None
            self._server.close()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--fault-rate", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--arrivals", help="on SIGTERM, write each request's arrival time (epoch seconds) here, one per line")
    a = ap.parse_args()
    state = ServerState(latency=a.latency, fault_rate=a.fault_rate, seed=a.seed,
                        arrivals=[] if a.arrivals else None)

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _Protocol(state), "127.0.0.1", a.port)
        stop = loop.create_future()  # with --arrivals, SIGTERM ends the server cleanly (to write them)
        if a.arrivals:
            loop.add_signal_handler(signal.SIGTERM, lambda: stop.done() or stop.set_result(None))
        print(f"listening on http://127.0.0.1:{a.port}/v1", flush=True)
        async with server:
            await stop

    asyncio.run(serve())
    if a.arrivals:
        with open(a.arrivals, "w", encoding="utf-8") as f:
            f.writelines(f"{t:.6f}\n" for t in state.arrivals or [])


if __name__ == "__main__":
    main()
