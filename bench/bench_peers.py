"""trustbench against the tools a user would pick instead, side by side in one run.

    python bench/bench_peers.py [--data ../shared/data/trustllm] [--rounds 2] [-n 2000]

One fake OpenAI-compatible server (trustbench.testing.fakeserver, 100 ms latency per request, its
own process), the same prompts (the first 1,000 of TrustLLM's jailbreak and of misuse files), concurrency 64:

- trustbench: `trustbench run` as a fresh process (bytecode written first, as an installed
  package has it; empty HOME and cache, default judges: refusal
  classifier + offline toxicity, scoring with bootstrap intervals, HTML report): wall clock from
  start to results, and its own generation window (results.json summary.generation_seconds);
- Inspect AI (PyPI inspect-ai): `inspect eval bench/peers_inspect_task.py --model openai/bench
  --max-connections 64` with OPENAI_BASE_URL at the server, generate only, no scorer: wall clock;
- a TrustLLM-0.4-style engine written here from its description (no TrustLLM code): a thread pool
  of 64 blocking `requests.post` calls, a new connection each, retries on 408/429/5xx, each result
  appended to a samples.jsonl journal. It only generates. (TrustLLM itself runs 8 threads per group
  with a barrier between groups; this baseline is the faster version of its design at 64.)

Rounds interleave the three tools (`--skip-inspect` leaves Inspect out: it is slow under load);
the medians of the rounds are compared. Prints wall clock,
requests/s and the ratios (targets: Inspect / trustbench >= 1.5; trustbench whole run / baseline
generation <= 1.1).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from bench_engine import precompile, start_server  # noqa: E402

RETRY = {408, 429, 500, 502, 503, 504}


def prompts(data: str, n: int) -> list[str]:
    half = n // 2
    out = []
    for rel, k in (("safety/jailbreak.json", half), ("safety/misuse.json", n - half)):
        out += [r["prompt"] for r in json.loads(Path(data, rel).read_text())[:k]]
    return out


def env_for(home: str) -> dict[str, str]:
    return {**os.environ, "HOME": home, "TRUSTBENCH_HOME": home, "PYTHONPATH": str(ROOT / "src")}


def run_trustbench(url: str, data: str, n: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "trustbench.cli", "run", "--model", "openai:bench", "--base-url", url,
               "--suite", "trustllm", "--data", data, "--tasks", "safety/jailbreak,safety/misuse",
               "--limit", str(n // 2), "--out", f"{tmp}/run", "--cache", f"{tmp}/cache.sqlite",
               "--concurrency", "64", "--no-progress"]
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env_for(tmp), check=True, capture_output=True)
        wall = time.perf_counter() - t0
        summary = json.loads(Path(tmp, "run", "results.json").read_text())["summary"]
        assert summary["items"] == n and summary["failed"] == 0, summary
        return wall, summary["generation_seconds"]


def run_inspect(url: str, texts: list[str]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        ds = Path(tmp, "prompts.jsonl")
        ds.write_text("".join(json.dumps({"id": i, "input": t}) + "\n" for i, t in enumerate(texts)))
        env = {**env_for(tmp), "OPENAI_BASE_URL": url, "OPENAI_API_KEY": "unused"}
        cmd = [shutil.which("inspect") or "inspect", "eval", "peers_inspect_task.py", "-T", f"dataset={ds}",
               "--model", "openai/bench", "-M", "responses_api=false", "--max-connections", "64",
               "--log-dir", f"{tmp}/logs"]
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, cwd=ROOT / "bench", check=True, capture_output=True)
        wall = time.perf_counter() - t0
        logs = list(Path(tmp, "logs").glob("*.eval"))
        assert len(logs) == 1, logs
        return wall


def run_baseline(url: str, texts: list[str], workers: int = 64, attempts: int = 6) -> float:
    """TrustLLM-style: blocking requests.post per prompt (no session: a new connection each) in a
    thread pool, retries with exponential backoff, each result appended to a JSONL journal."""
    import requests

    lock = threading.Lock()
    with tempfile.TemporaryDirectory() as tmp:
        journal = Path(tmp, "samples.jsonl")

        def one(i: int, prompt: str) -> None:
            body = {"model": "bench", "messages": [{"role": "user", "content": prompt}], "temperature": 0}
            res, err = None, None
            for attempt in range(attempts):
                try:
                    r = requests.post(f"{url}/chat/completions", json=body, timeout=300,
                                      headers={"Authorization": "Bearer unused"})
                    if r.status_code == 200:
                        res = r.json()["choices"][0]["message"]["content"]
                        break
                    err = f"HTTP {r.status_code}"
                    if r.status_code not in RETRY:
                        break
                except (requests.RequestException, ValueError, KeyError) as e:
                    err = type(e).__name__
                time.sleep(min(10.0, 2**attempt) * random.uniform(0.5, 1.0))
            line = json.dumps({"index": i, "prompt": prompt, "res": res, "error": None if res else err})
            with lock, journal.open("a", encoding="utf-8") as f:
                f.write(line + "\n")

        t0 = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(one, range(len(texts)), texts))
        wall = time.perf_counter() - t0
        lines = journal.read_text().splitlines()
        assert len(lines) == len(texts) and all(json.loads(x)["res"] for x in lines)
        return wall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "trustllm"))
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--skip-inspect", action="store_true", help="leave Inspect AI out (slow under load)")
    a = ap.parse_args()
    texts = prompts(a.data, a.n)
    precompile(ROOT / "src")
    proc, url = start_server(0.1)
    res: dict[str, list[float]] = {"trustbench": [], "trustbench_gen": [], "inspect": [], "baseline": []}
    try:
        for r in range(a.rounds):
            wall, gen = run_trustbench(url, a.data, a.n)
            res["trustbench"].append(wall)
            res["trustbench_gen"].append(gen)
            res["inspect"].append(run_inspect(url, texts) if not a.skip_inspect else float("nan"))
            res["baseline"].append(run_baseline(url, texts))
            print(f"round {r + 1}: trustbench {wall:.2f} s (generation {gen:.2f} s), inspect {res['inspect'][-1]:.2f} s, "
                  f"trustllm-style baseline {res['baseline'][-1]:.2f} s; load average {os.getloadavg()[0]:.1f}",
                  flush=True)
    finally:
        proc.terminate()
    med = {k: statistics.median(v) for k, v in res.items()}
    n = a.n
    print(f"\n{n} requests, 100 ms latency, concurrency 64 (bound {n / 640:.2f} s); medians of {a.rounds} rounds:")
    print(f"  trustbench run, start to results   {med['trustbench']:6.2f} s  {n / med['trustbench']:6.0f} req/s")
    print(f"  trustbench generation window       {med['trustbench_gen']:6.2f} s  {n / med['trustbench_gen']:6.0f} req/s")
    if not a.skip_inspect:
        print(f"  inspect eval (generate only)       {med['inspect']:6.2f} s  {n / med['inspect']:6.0f} req/s")
    print(f"  TrustLLM-style baseline (generate) {med['baseline']:6.2f} s  {n / med['baseline']:6.0f} req/s")
    if not a.skip_inspect:
        print(f"ratio inspect / trustbench end to end: {med['inspect'] / med['trustbench']:.2f}x (target >= 1.5)")
    print(f"ratio trustbench end to end / baseline generation: {med['trustbench'] / med['baseline']:.2f} (target <= 1.1)")
    print(f"ratio trustbench generation / baseline generation: {med['trustbench_gen'] / med['baseline']:.2f}")


if __name__ == "__main__":
    main()
