"""Side-by-side micro-benchmark of managed llama.cpp server settings on the default run's workload.

    python bench/bench_llama_settings.py [--n 64] [--rounds 2]

Prompts: every k-th item of the built-in suite as the default run plans it (same messages, the
suite's temperature and 64-token cap), n of them. Each setting starts its own server (SmolLM2-135M,
in process), sends the prompts through trustbench's scheduler at concurrency = slots, and is timed
from the first request to the last answer (server start timed separately). Settings alternate
within each round, so machine load hits them alike; calls/s is the median over rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

from trustbench.data.loader import load_task_data, suite_root
from trustbench.engine.runner import RunConfig, gen_params
from trustbench.core.scheduler import AdaptiveLimiter, Scheduler
from trustbench.models.local import LocalLlamaModel, smollm2_path
from trustbench.tasks.registry import select_tasks

SETTINGS: dict[str, dict] = {
    "8 slots, ctx 8192, batch 2048/512 (before)": {"n_parallel": 8},
    "4 slots, ctx 4096": {"n_parallel": 4},
    "16 slots, ctx 16384": {"n_parallel": 16},
    "8 slots, ctx 4096": {"n_parallel": 8, "n_ctx": 4096},
    "8 slots, ubatch 128": {"n_parallel": 8, "server_options": {"n_ubatch": 128, "n_batch": 512}},
    "8 slots, flash attention on": {"n_parallel": 8, "server_options": {"flash_attn_type": 1}},
    "8 slots, 1 thread": {"n_parallel": 8, "threads": 1},
    "1 server x 2 threads, 8 slots (before)": {"n_parallel": 8, "servers": 1, "threads": 2},
    "2 servers x 1 thread, 4 slots each": {"n_parallel": 8, "servers": 2, "threads": 1},
    "2 servers x 1 thread, 8 slots each": {"n_parallel": 16, "servers": 2, "threads": 1},
    "2 servers x 1 thread, 2 slots each": {"n_parallel": 4, "servers": 2, "threads": 1},
    "Q8_0, 2 servers x 1 thread, 4 slots each": {"n_parallel": 8, "servers": 2, "threads": 1, "q8": True},
    "Q8_0, 2 servers x 1 thread, 8 slots each": {"n_parallel": 16, "servers": 2, "threads": 1, "q8": True},
    "Q8_0, 2 servers x 1 thread, 16 slots each": {"n_parallel": 32, "servers": 2, "threads": 1, "q8": True},
    "Q8_0, 1 server x 2 threads, 32 slots": {"n_parallel": 32, "servers": 1, "threads": 2, "q8": True},
}


def workload(n: int) -> list[tuple[list[dict[str, str]], object]]:
    cfg = RunConfig()
    root = suite_root("builtin", None)
    items = []
    for task in select_tasks(None):
        data = load_task_data(task, root)
        params = gen_params(task, cfg)
        items += [(task.messages(r), params) for r in data.records]
    step = max(1, len(items) // n)
    return items[::step][:n]


async def one_setting(name: str, kw: dict, items: list) -> tuple[float, float]:
    model = LocalLlamaModel(smollm2_path(), spec="local:smollm2", **kw)
    t0 = time.perf_counter()
    await model.start()
    start_s = time.perf_counter() - t0
    slots = model.n_parallel
    sched = Scheduler(AdaptiveLimiter(initial=slots, maximum=slots, adaptive=False))
    try:
        t0 = time.perf_counter()
        await asyncio.gather(*(sched.call(lambda m=m, p=p: model.complete(m, p)) for m, p in items))
        return start_s, len(items) / (time.perf_counter() - t0)
    finally:
        await model.aclose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--only", nargs="*", help="setting names (prefixes) to run")
    a = ap.parse_args()
    items = workload(a.n)
    chosen = {k: v for k, v in SETTINGS.items() if not a.only or any(k.startswith(o) for o in a.only)}
    rates: dict[str, list[float]] = {k: [] for k in chosen}
    starts: dict[str, list[float]] = {k: [] for k in chosen}
    for r in range(a.rounds):
        for name, kw in chosen.items():
            s, rate = asyncio.run(one_setting(name, kw, items))
            rates[name].append(rate)
            starts[name].append(s)
            print(f"round {r + 1} {name:<45} {rate:5.2f} calls/s (server start {s:.1f} s, load {os.getloadavg()[0]:.1f})",
                  flush=True)
    base = statistics.median(next(iter(rates.values())))
    print(f"\n{len(items)} prompts of the built-in suite, medians of {a.rounds} rounds:")
    for name in chosen:
        m = statistics.median(rates[name])
        print(f"  {name:<45} {m:5.2f} calls/s  x{m / base:.2f}  start {statistics.median(starts[name]):.1f} s")


if __name__ == "__main__":
    main()
