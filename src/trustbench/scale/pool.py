"""`--ray ADDRESS --replicas K`: K Ray actors each serve the model; the driver balances requests
over their URLs (least outstanding, as `openai:` does over several base URLs), and when a
replica's connection fails it retries the request on another replica at once and asks Ray for
the replica's URL again: Ray restarts a dead actor (max_restarts=-1), which serves on a new
port. The cache and run directory stay on the driver.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from trustbench.errors import SpecError, TrustbenchError
from trustbench.models.base import Completion, GenParams, ModelError
from trustbench.models.openai_http import OpenAIChatModel
from trustbench.scale.ray_cluster import connect, disconnect, import_ray
from trustbench.scale.replica import ReplicaServer, parse_fake

RESTART_TIMEOUT = 300.0


class ReplicaPoolModel(OpenAIChatModel):
    def __init__(self, spec: str, *, address: str = "local", replicas: int = 1, replica_cpus: float = 1.0,
                 replica_gpus: float = 0.0, n_parallel: int = 8):
        if replicas < 1:
            raise TrustbenchError("--replicas: must be a positive integer")
        if spec.startswith("fake:"):
            name, _ = parse_fake(spec)
            extra: dict[str, Any] = {}
            self._base_info: dict[str, Any] = {"backend": "openai", "model": name, "server": "trustbench fake server"}
        elif spec.startswith("local:"):
            from trustbench.models.spec import load_model

            base = load_model(spec, n_parallel=n_parallel)
            name, extra = base.model, dict(base._extra_identity)  # type: ignore[attr-defined]
            self._base_info = {**base.identity(), "n_parallel": n_parallel, "threads": max(1, int(replica_cpus))}
        elif spec.startswith("vllm:") and spec.removeprefix("vllm:").strip():
            name, extra = spec.removeprefix("vllm:").strip(), {}
            self._base_info = {"backend": "vllm", "model": name, "server": "vLLM OpenAI-compatible server"}
        else:
            raise SpecError(f"--ray: serves local:smollm2, local:PATH.gguf or vllm:MODEL replicas, not {spec!r} "
                            "(an openai: model is balanced over several --base-url values without Ray)")
        super().__init__(name, ["http://127.0.0.1:0/v1"], api_key="", spec=spec, extra_identity=extra)
        self.address, self.n_replicas = address, replicas
        self.replica_cpus, self.replica_gpus, self.n_parallel = replica_cpus, replica_gpus, n_parallel
        self._actors: list[Any] = []
        self._replica_of: dict[str, int] = {}
        self._live: set[str] = set()
        self._restarting: dict[int, asyncio.Task[None]] = {}
        self._stats: list[dict[str, Any]] = []
        self._connected = False
        self._t0: float | None = None
        self._t1: float | None = None

    def info(self) -> dict[str, Any]:
        return {**self._base_info, "replicas": self.n_replicas, "ray": self.address,
                "replica_cpus": self.replica_cpus, "replica_gpus": self.replica_gpus}

    async def start(self) -> None:
        if self._actors:
            return
        need_cpus = max(self.n_replicas * self.replica_cpus + 1, 2)
        need_gpus = self.n_replicas * self.replica_gpus or None
        self._connected = await asyncio.to_thread(connect, self.address, need_cpus, need_gpus)
        ray = import_ray()
        actor_cls = ray.remote(ReplicaServer).options(
            num_cpus=self.replica_cpus, num_gpus=self.replica_gpus, max_restarts=-1, max_task_retries=0,
            scheduling_strategy="SPREAD")  # one replica per node first, as far as the nodes' resources allow
        threads = max(1, int(self.replica_cpus))
        self._actors = [actor_cls.remote(self.spec, threads, self.n_parallel, self.replica_gpus) for _ in range(self.n_replicas)]
        try:
            urls = await asyncio.gather(*(a.url.remote() for a in self._actors))
            nodes = await asyncio.gather(*(a.node.remote() for a in self._actors))
        except Exception as e:
            await self.aclose()
            raise TrustbenchError(f"--ray: a replica of {self.spec} failed to start ({type(e).__name__}: "
                                  f"{str(e).strip().splitlines()[-1] if str(e).strip() else ''})") from None
        self.base_urls = list(urls)
        self._outstanding = dict.fromkeys(urls, 0)
        self._replica_of = {u: i for i, u in enumerate(urls)}
        self._live = set(urls)
        self._stats = [{"replica": i, "nodes": [nodes[i]], "urls": [u], "completed": 0, "errors": 0, "restarts": 0} for i, u in enumerate(urls)]
        await super().start()
        self._t0 = time.monotonic()

    async def complete(self, messages: list[dict[str, str]], params: GenParams) -> Completion:
        tried: set[str] = set()
        while True:
            live = [u for u in self._live if u not in tried]
            if not live:
                raise ModelError("no live replica (failed or restarting)", transient=True)
            url = min(live, key=self._outstanding.__getitem__)
            r = self._replica_of[url]
            try:
                completion = await self.complete_at(url, messages, params)
            except ModelError as e:
                self._stats[r]["errors"] += 1
                if e.status is None:  # the connection failed: try another replica now, recheck this one
                    tried.add(url)
                    self._recheck(r, url)
                    continue
                raise
            self._stats[r]["completed"] += 1
            return completion

    def _recheck(self, r: int, url: str) -> None:
        self._live.discard(url)
        if r not in self._restarting:
            self._restarting[r] = asyncio.ensure_future(self._refresh(r, url))

    async def _refresh(self, r: int, url: str) -> None:
        """Ask the actor for its URL until it answers: a new URL means Ray restarted it."""
        deadline = time.monotonic() + RESTART_TIMEOUT
        try:
            while True:
                try:
                    new = await asyncio.wait_for(self._actors[r].url.remote(), 10)
                    break
                except Exception:  # dead or restarting
                    if time.monotonic() > deadline:
                        self._stats[r]["dead"] = True
                        return
                    await asyncio.sleep(0.2)
            if new != url:
                try:
                    node = await asyncio.wait_for(self._actors[r].node.remote(), 10)
                except Exception:
                    node = None
                self._stats[r]["restarts"] += 1
                self._stats[r]["urls"].append(new)
                self._stats[r]["nodes"].append(node)
                self._outstanding.setdefault(new, 0)
                self._replica_of[new] = r
                self.base_urls = [new if u == url else u for u in self.base_urls]
            self._live.add(new)
        finally:
            self._restarting.pop(r, None)

    def replica_stats(self) -> list[dict[str, Any]]:
        elapsed = ((self._t1 or time.monotonic()) - self._t0) if self._t0 else 0.0
        return [{**s, "throughput_per_s": round(s["completed"] / elapsed, 3) if elapsed else None} for s in self._stats]

    def actor_pid(self, r: int) -> int:
        """The process id of replica r (tests kill it)."""
        return import_ray().get(self._actors[r].pid.remote())

    async def aclose(self) -> None:
        if self._t0 is not None and self._t1 is None:
            self._t1 = time.monotonic()
        for t in list(self._restarting.values()):
            t.cancel()
        await super().aclose()
        actors, self._actors = self._actors, []
        if actors or self._connected:
            await asyncio.to_thread(self._stop, actors)

    def _stop(self, actors: list[Any]) -> None:
        ray = import_ray()
        try:  # a server in a child process (vLLM) is asked to stop first; PDEATHSIG is the fallback
            ray.get([a.stop.remote() for a in actors], timeout=60)
        except Exception:
            pass
        for a in actors:
            try:
                ray.kill(a, no_restart=True)
            except Exception:
                pass
        disconnect(self._connected)
        self._connected = False
