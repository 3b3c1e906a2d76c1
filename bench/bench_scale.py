"""Ray replica scaling, measured on this machine (python bench/bench_scale.py [--skip-smollm2]).

1. Fake server replicas capped at a fixed rate per replica (`fake:bench?rate=R`): 1, 2 and 4
   replicas under one private Ray cluster on 127.0.0.1, each fed R x replicas x SECONDS unique
   requests through the engine's generate step at fixed concurrency. Efficiency = achieved
   requests/s / (replicas x R) (target >= 0.9).
2. SmolLM2-135M (llama.cpp): 2 replicas of 1 thread against 1 replica of 2 threads, the same
   prompts and max_tokens, generate step only (server start excluded): prompts/s and the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path

from trustbench.data.loader import TaskData
from trustbench.core.cache import Cache
from trustbench.engine.config import RunConfig
from trustbench.engine.generate import generate
from trustbench.engine.plan import plan
from trustbench.core.scheduler import AdaptiveLimiter, RetryPolicy, Scheduler
from trustbench.scale.pool import ReplicaPoolModel
from trustbench.scale.ray_cluster import connect, disconnect
from trustbench.tasks.registry import select_tasks


def planned_prompts(model, n: int, max_tokens: int, tag: str):
    task = select_tasks("safety/misuse")[0]
    records = [{"prompt": f"{tag} question {i}: explain how taxes work in one sentence", "source": "bench"}
               for i in range(n)]
    data = TaskData(task=task, path=Path("bench"), records=records, sha256="bench")
    return plan([data], model, RunConfig(model=model.spec, suite="trustllm", max_tokens=max_tokens, temperature=0.0))


async def measure(model: ReplicaPoolModel, n: int, concurrency: int, max_tokens: int, tag: str) -> float:
    planned = planned_prompts(model, n, max_tokens, tag)
    with tempfile.TemporaryDirectory() as tmp:
        cache = Cache(Path(tmp) / "c.sqlite")
        sched = Scheduler(AdaptiveLimiter(initial=concurrency, maximum=concurrency, adaptive=False),
                          RetryPolicy(timeout=600))
        async with model:
            warm = planned_prompts(model, 2 * model.n_replicas, max_tokens, tag + "-warm")
            await generate(warm, model, cache, sched)
            start = time.perf_counter()
            gen = await generate(planned, model, cache, sched)
            seconds = time.perf_counter() - start
        cache.close()
    assert not gen.errors, list(gen.errors.values())[:3]
    return n / seconds


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=50.0, help="requests/s per fake replica")
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--smollm2-prompts", type=int, default=48)
    ap.add_argument("--max-tokens", type=int, default=48)
    ap.add_argument("--skip-smollm2", action="store_true")
    ap.add_argument("--skip-fake", action="store_true")
    ap.add_argument("--order", default="2x1,1x2", help="SmolLM2 layouts, in the order measured")
    a = ap.parse_args()
    out: dict[str, object] = {"load_average_start": os.getloadavg()}
    started = connect("local", num_cpus=8)
    try:
        rows = []
        for k in () if a.skip_fake else (1, 2, 4):
            n = int(a.rate * k * a.seconds)
            model = ReplicaPoolModel(f"fake:bench?rate={a.rate:g}", replicas=k, replica_cpus=0.25)
            rps = await measure(model, n, concurrency=32 * k, max_tokens=16, tag=f"fake{k}")
            rows.append({"replicas": k, "requests": n, "req_per_s": round(rps, 1),
                         "efficiency": round(rps / (k * a.rate), 3)})
            print(json.dumps(rows[-1]), flush=True)
        out["fake"] = rows
        if not a.skip_smollm2:
            sm = {}
            layouts = {"2x1": (2, 1.0), "1x2": (1, 2.0)}
            for label in a.order.split(","):
                k, cpus = layouts[label]
                model = ReplicaPoolModel("local:smollm2", replicas=k, replica_cpus=cpus, n_parallel=8)
                rps = await measure(model, a.smollm2_prompts, concurrency=16, max_tokens=a.max_tokens, tag=f"sm{label}")
                sm[label] = round(rps, 3)
                print(json.dumps({"smollm2": label, "prompts_per_s": sm[label]}), flush=True)
            sm["ratio_2x1_over_1x2"] = round(sm["2x1"] / sm["1x2"], 3)
            out["smollm2"] = sm
    finally:
        disconnect(started)
    out["load_average_end"] = os.getloadavg()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
