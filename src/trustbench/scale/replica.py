"""One model replica as a Ray actor: it serves the model over the OpenAI-compatible HTTP API on
its node and tells the driver its URL. Serve specs:

  local:smollm2 | local:PATH.gguf   the managed llama.cpp server (models/local.py)
  vllm:MODEL                        vLLM's OpenAI-compatible server (scale/vllm_server.py), where
                                    vLLM is installed on the replica's node
  fake:NAME?rate=R&latency=S        trustbench's fake chat server (tests and bench/), answering
                                    at most R requests/s after S seconds
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from trustbench.errors import SpecError


def parse_fake(spec: str) -> tuple[str, dict[str, float]]:
    name, _, query = spec.removeprefix("fake:").partition("?")
    try:
        opts = {k: float(v) for k, v in parse_qsl(query, strict_parsing=bool(query))}
    except ValueError:
        raise SpecError(f"bad model spec {spec!r}: fake:NAME?rate=R&latency=S takes numbers") from None
    unknown = set(opts) - {"rate", "latency"}
    if not name or unknown:
        raise SpecError(f"bad model spec {spec!r}: fake:NAME?rate=R&latency=S")
    return name, opts


def wait_healthy(root: str, timeout: float, *, interval: float = 0.1,
                 check: Callable[[], None] = lambda: None) -> bool:
    """Poll `root`/health until it answers 200 (True) or `timeout` seconds pass (False); `check`
    runs before each poll and raises when the server can no longer come up."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        check()
        try:
            if httpx.get(f"{root}/health", timeout=5).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(interval)
    return False


class ReplicaServer:
    """The actor body (wrapped with ray.remote by the pool). Restarted by Ray when it dies:
    __init__ runs again and serves on a new port."""

    def __init__(self, spec: str, threads: int, n_parallel: int, gpus: float = 0.0):
        from trustbench.scale.ray_cluster import node_host, node_id

        self.spec = spec
        self._server: Any = None
        self._node = node_id()
        host = node_host()
        if spec.startswith("fake:"):
            from trustbench.testing.fakeserver import FakeServer

            _, opts = parse_fake(spec)
            self._server = FakeServer(**opts).__enter__()
            self._url = self._server.url
        elif spec.startswith("vllm:"):
            from trustbench.scale.vllm_server import VLLMServer

            self._server = VLLMServer(spec.removeprefix("vllm:"), host, gpus=gpus, n_parallel=n_parallel)
            self._url = f"{self._server.root}/v1"
        else:
            from pathlib import Path

            from trustbench.models.local import file_digest, served_file, smollm2_path, start_llama_server

            rest = spec.removeprefix("local:")
            if rest == "smollm2":  # the weights the pool's identity names (LocalLlamaModel with q8)
                shipped = smollm2_path()
                gguf = served_file(shipped, file_digest(shipped), q8=True)
            else:
                gguf = Path(rest).expanduser()
            self._server, root = start_llama_server(gguf, spec, n_ctx=1024 * n_parallel, n_parallel=n_parallel,
                                                    threads=threads, host=host)
            self._wait_healthy(root)
            self._url = f"{root}/v1"

    @staticmethod
    def _wait_healthy(root: str, timeout: float = 120.0) -> None:
        if not wait_healthy(root, timeout):
            raise RuntimeError(f"llama.cpp server at {root} not healthy after {timeout:g}s")

    def url(self) -> str:
        return self._url

    def node(self) -> str:
        return self._node

    def stop(self) -> None:
        """Stop a server that runs in a child process (vLLM); the others die with the actor."""
        stop = getattr(self._server, "stop", None)
        if stop is not None:
            stop()

    def pid(self) -> int:
        return os.getpid()

    def ping(self) -> bool:
        return True
