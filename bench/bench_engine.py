"""Engine throughput and resume benchmarks against the local fake OpenAI-compatible server.

    python bench/bench_engine.py [--data ../shared/data/trustllm]

1. 2,000 requests at concurrency 64 against a server with 100 ms fixed latency:
   achieved requests/s divided by the bound 64 / 0.1 s = 640/s (target >= 0.9).
2. The same with no latency: the harness's own ceiling in requests/s (target >= 1,000/s).
3. Resume: a completed 2,000-item `trustbench run` re-run with the same command:
   wall time and model calls (target 0 calls, < 5 s).
The server runs in its own process so it does not share the client's event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from trustbench.core.scheduler import AdaptiveLimiter, Scheduler
from trustbench.models.base import GenParams
from trustbench.models.openai_http import OpenAIChatModel


def fresh_env(home: str, src: Path | str = Path(__file__).resolve().parents[1] / "src") -> dict[str, str]:
    """The environment of a timed fresh trustbench process: an empty HOME and TRUSTBENCH_HOME
    (no cache, rates or model copies from earlier runs), trustbench from `src`."""
    return {**os.environ, "HOME": home, "TRUSTBENCH_HOME": home, "PYTHONPATH": str(src)}


def precompile(src: Path | str) -> None:
    """Write the bytecode of a source tree, as `pip install` does for an installed package, so a
    timed fresh process loads trustbench's modules instead of compiling them (a checkout run
    with PYTHONDONTWRITEBYTECODE=1, as on this machine, otherwise compiles them in every run)."""
    import compileall

    compileall.compile_dir(str(src), quiet=1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(latency: float, arrivals: str | None = None) -> tuple[subprocess.Popen, str]:
    """The fake server in its own process; with `arrivals`, it writes each request's arrival time
    to that file when terminated."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "trustbench.testing.fakeserver", "--port", str(port), "--latency", str(latency),
         *(["--arrivals", arrivals] if arrivals else [])],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    proc.stdout.readline()  # "listening on ..."
    return proc, f"http://127.0.0.1:{port}/v1"


async def throughput(url: str, n: int, concurrency: int, adaptive: bool) -> tuple[float, float]:
    model = OpenAIChatModel("bench", [url], api_key="")
    limiter = AdaptiveLimiter(initial=concurrency if not adaptive else 8, maximum=concurrency, adaptive=adaptive)
    sched = Scheduler(limiter)
    params = GenParams(temperature=0, max_tokens=16)
    async with model:
        start = time.perf_counter()
        await asyncio.gather(
            *(sched.call(lambda i=i: model.complete([{"role": "user", "content": f"q{i}"}], params)) for i in range(n))
        )
        return n / (time.perf_counter() - start), limiter.limit


def resume(url: str, data: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "TRUSTBENCH_HOME": tmp}
        cmd = ["trustbench", "run", "--model", "openai:bench", "--base-url", url, "--suite", "trustllm",
               "--data", data, "--tasks", "safety/jailbreak,safety/misuse", "--limit", "1000",
               "--out", f"{tmp}/run", "--cache", f"{tmp}/cache.sqlite", "--concurrency", "64",
               "--refusal-detector", "keywords", "--no-report", "--no-progress"]
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        second = time.perf_counter() - t0
        summary = json.loads(Path(f"{tmp}/run/results.json").read_text())["summary"]
        return {"first_s": first, "rerun_s": second, "rerun_model_calls": summary["model_calls"], "items": summary["items"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "data" / "trustllm"))
    ap.add_argument("-n", type=int, default=2000)
    a = ap.parse_args()
    proc, url = start_server(0.1)
    try:
        rate, _ = asyncio.run(throughput(url, a.n, 64, adaptive=False))
        print(f"100 ms latency, fixed concurrency 64: {rate:.0f} req/s = {rate / 640:.3f} of the 640/s bound")
        rate_a, lim = asyncio.run(throughput(url, a.n, 64, adaptive=True))
        print(f"100 ms latency, adaptive (start 8, max 64): {rate_a:.0f} req/s = {rate_a / 640:.3f} of bound (limit ended at {lim:.0f})")
    finally:
        proc.terminate()
    proc, url = start_server(0.0)
    try:
        rate0, _ = asyncio.run(throughput(url, 5000, 64, adaptive=False))
        print(f"no latency, concurrency 64: harness ceiling {rate0:.0f} req/s")
        if Path(a.data, "safety", "jailbreak.json").is_file():
            r = resume(url, a.data)
            print(f"resume: first run of {r['items']} items {r['first_s']:.1f} s; re-run {r['rerun_s']:.2f} s with {r['rerun_model_calls']} model calls")
        else:
            print(f"resume: skipped, no TrustLLM data at {a.data}")
    finally:
        proc.terminate()


if __name__ == "__main__":
    main()
