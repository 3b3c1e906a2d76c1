"""trustbench against the tools a user would pick instead, side by side in one run.

    python bench/bench_peers.py [--data ../shared/data/trustllm] [--rounds 2] [-n 2000] [--src DIR]

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
  with a barrier between groups; this baseline is the faster version of its design at 64.) It is
  timed in this process (generation only, as the target reads) and again as a fresh process
  (bench/peers_baseline.py: start to exit, interpreter and imports included, like trustbench's figure);
- the floor (bench/peers_floor.py): a fresh process that imports aiohttp (trustbench's transport),
  sends the same prompts at concurrency 64 and journals the answers, start to exit: the least a
  Python tool on this client can take, so what trustbench takes beyond it is its own overhead.

--src times another checkout's src/ too, in the same rounds (e.g. `git archive <commit> src | tar
-x -C DIR`): how a change moved the ratios on the same machine at the same time.

Rounds interleave the three tools (`--skip-inspect` leaves Inspect out: it is slow under load);
the medians of the rounds are compared. Prints wall clock,
requests/s and the ratios (targets: Inspect / trustbench >= 1.5; trustbench whole run / baseline
generation <= 1.1).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from bench_engine import fresh_env, precompile, start_server  # noqa: E402
from bench_overhead import run_args  # noqa: E402
from peers_baseline import run_baseline  # noqa: E402


def prompts(data: str, n: int) -> list[str]:
    half = n // 2
    out = []
    for rel, k in (("safety/jailbreak.json", half), ("safety/misuse.json", n - half)):
        out += [r["prompt"] for r in json.loads(Path(data, rel).read_text())[:k]]
    return out


def run_trustbench(url: str, data: str, n: int, src: Path = ROOT / "src") -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "trustbench.cli", *run_args(url, data, tmp, limit=n // 2)]
        t0 = time.perf_counter()
        subprocess.run(cmd, env=fresh_env(tmp, src), check=True, capture_output=True)
        wall = time.perf_counter() - t0
        summary = json.loads(Path(tmp, "run", "results.json").read_text())["summary"]
        assert summary["items"] == n and summary["failed"] == 0, summary
        return wall, summary["generation_seconds"]


def run_inspect(url: str, texts: list[str]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        ds = Path(tmp, "prompts.jsonl")
        ds.write_text("".join(json.dumps({"id": i, "input": t}) + "\n" for i, t in enumerate(texts)))
        env = {**fresh_env(tmp), "OPENAI_BASE_URL": url, "OPENAI_API_KEY": "unused"}
        cmd = [shutil.which("inspect") or "inspect", "eval", "peers_inspect_task.py", "-T", f"dataset={ds}",
               "--model", "openai/bench", "-M", "responses_api=false", "--max-connections", "64",
               "--log-dir", f"{tmp}/logs"]
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, cwd=ROOT / "bench", check=True, capture_output=True)
        wall = time.perf_counter() - t0
        logs = list(Path(tmp, "logs").glob("*.eval"))
        assert len(logs) == 1, logs
        return wall


def run_process(script: str, url: str, texts: list[str]) -> tuple[float, float]:
    """bench/<script> as a fresh process: (start to exit, the generation window it prints)."""
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp, "prompts.json")
        f.write_text(json.dumps(texts))
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, str(ROOT / "bench" / script), url, str(f)],
                             check=True, capture_output=True, text=True)
        return time.perf_counter() - t0, float(out.stdout.split()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "trustllm"))
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--skip-inspect", action="store_true", help="leave Inspect AI out (slow under load)")
    ap.add_argument("--src", type=Path, help="also time the trustbench of this src/ (another checkout)")
    a = ap.parse_args()
    texts = prompts(a.data, a.n)
    precompile(ROOT / "src")
    if a.src:
        precompile(a.src)
    proc, url = start_server(0.1)
    res: dict[str, list[float]] = {"trustbench": [], "trustbench_gen": [], "inspect": [], "baseline": [],
                                   "baseline_process": [], "baseline_process_gen": [], "floor": [], "floor_gen": [],
                                   "other": [], "other_gen": []}
    try:
        for r in range(a.rounds):
            wall, gen = run_trustbench(url, a.data, a.n)
            res["trustbench"].append(wall)
            res["trustbench_gen"].append(gen)
            if a.src:
                wall_o, gen_o = run_trustbench(url, a.data, a.n, a.src)
                res["other"].append(wall_o)
                res["other_gen"].append(gen_o)
            res["inspect"].append(run_inspect(url, texts) if not a.skip_inspect else float("nan"))
            res["baseline"].append(run_baseline(url, texts))
            whole, gen_b = run_process("peers_baseline.py", url, texts)
            res["baseline_process"].append(whole)
            res["baseline_process_gen"].append(gen_b)
            floor, gen_f = run_process("peers_floor.py", url, texts)
            res["floor"].append(floor)
            res["floor_gen"].append(gen_f)
            print(f"round {r + 1}: trustbench {wall:.2f} s (generation {gen:.2f} s), inspect {res['inspect'][-1]:.2f} s, "
                  f"trustllm-style baseline {res['baseline'][-1]:.2f} s "
                  f"(as a process: {whole:.2f} s start to exit, generation {gen_b:.2f} s), floor {floor:.2f} s"
                  + (f"; --src trustbench {res['other'][-1]:.2f} s" if a.src else "")
                  + f"; load average {os.getloadavg()[0]:.1f}",
                  flush=True)
    finally:
        proc.terminate()
    med = {k: statistics.median(v) if v else float("nan") for k, v in res.items()}
    n = a.n
    print(f"\n{n} requests, 100 ms latency, concurrency 64 (bound {n / 640:.2f} s); medians of {a.rounds} rounds:")
    print(f"  trustbench run, start to results   {med['trustbench']:6.2f} s  {n / med['trustbench']:6.0f} req/s")
    print(f"  trustbench generation window       {med['trustbench_gen']:6.2f} s  {n / med['trustbench_gen']:6.0f} req/s")
    if not a.skip_inspect:
        print(f"  inspect eval (generate only)       {med['inspect']:6.2f} s  {n / med['inspect']:6.0f} req/s")
    if a.src:
        print(f"  --src trustbench run ({a.src})    {med['other']:6.2f} s  (generation {med['other_gen']:.2f} s)")
    print(f"  TrustLLM-style baseline (generate) {med['baseline']:6.2f} s  {n / med['baseline']:6.0f} req/s")
    print(f"  the baseline as a fresh process    {med['baseline_process']:6.2f} s start to exit "
          f"(generation {med['baseline_process_gen']:.2f} s)")
    print(f"  floor: aiohttp as a fresh process  {med['floor']:6.2f} s start to exit (generation {med['floor_gen']:.2f} s)")
    if not a.skip_inspect:
        print(f"ratio inspect / trustbench end to end: {med['inspect'] / med['trustbench']:.2f}x (target >= 1.5)")
    paired = sorted(t / b for t, b in zip(res["trustbench"], res["baseline"]))
    print(f"ratio trustbench end to end / baseline generation: {med['trustbench'] / med['baseline']:.2f} (target <= 1.1); "
          f"per round {', '.join(f'{x:.2f}' for x in paired)}")
    print(f"ratio trustbench generation / baseline generation: {med['trustbench_gen'] / med['baseline']:.2f}")
    print(f"ratio trustbench end to end / baseline process end to end: {med['trustbench'] / med['baseline_process']:.2f}")
    print(f"ratio floor end to end / baseline generation: {med['floor'] / med['baseline']:.2f}; trustbench beyond the floor: "
          f"{med['trustbench'] - med['floor']:.2f} s")
    if a.src:
        print(f"ratio --src trustbench end to end / baseline generation: {med['other'] / med['baseline']:.2f}")


if __name__ == "__main__":
    main()
