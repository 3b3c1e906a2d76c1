"""Full garbage collections during a fresh `trustbench run`: how many, how long each stopped the
process (every thread, the event loop and the requests in flight with it), and the run's wall clock.

    python bench/bench_gc.py [--data ../shared/data/trustllm] [--tasks SELECTOR] [--limit N]
                             [--rounds 1] [--src DIR ...]

The run of bench_timeline.py (jailbreak + misuse, 1,000 each, by default; `--tasks
safety,ethics,fairness,privacy,truthfulness,robustness --limit 100000` is the whole TrustLLM
dataset, 16,441 items) against the fake server with 100 ms latency, as a fresh process with an
empty HOME; a `gc.callbacks` hook in that process times each collection of the oldest generation.
--src times another checkout's src/ in the same rounds (alternating). Peak RSS is the trustbench
process's own (its forked workers not counted).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from bench_engine import fresh_env, precompile, start_server  # noqa: E402
from bench_overhead import run_args  # noqa: E402

HOOK = """
import atexit, gc, resource, runpy, sys, time
atexit.register(lambda: sys.stderr.write(f"PEAK-RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}\\n"))
started = []
def timed(phase, info):
    if phase == "start":
        started.append(time.perf_counter())
    elif info["generation"] == 2:
        sys.stderr.write(f"FULL-GC {(time.perf_counter() - started[-1]) * 1000:.1f}\\n")
gc.callbacks.append(timed)
sys.argv = ["trustbench", *sys.argv[1:]]
runpy.run_module("trustbench.cli", run_name="__main__")
"""


def one_run(data: str, src: Path, tasks: str, limit: int) -> tuple[float, list[float], str]:
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(0.1)
        try:
            t0 = time.perf_counter()
            r = subprocess.run([sys.executable, "-c", HOOK, *run_args(url, data, tmp, tasks, limit)],
                               env=fresh_env(tmp, src), check=True, capture_output=True, text=True)
            wall = time.perf_counter() - t0
        finally:
            proc.terminate()
            proc.wait(10)
        lines = [line.split() for line in r.stderr.splitlines()]
        return wall, [float(x[1]) for x in lines if x[:1] == ["FULL-GC"]], next((x[1] for x in lines if x[:1] == ["PEAK-RSS"]), "?")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "trustllm"))
    ap.add_argument("--tasks", default="safety/jailbreak,safety/misuse")
    ap.add_argument("--limit", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--src", type=Path, action="append", help="a checkout's src/ (repeat: alternate between them)")
    a = ap.parse_args()
    srcs = a.src or [ROOT / "src"]
    for s in srcs:
        precompile(s)
    for r in range(a.rounds):
        for s in srcs if r % 2 == 0 else srcs[::-1]:
            wall, pauses, rss = one_run(a.data, s, a.tasks, a.limit)
            print(f"round {r + 1} {s}: whole run {wall:.2f} s; {len(pauses)} full collections, {sum(pauses):.0f} ms in all"
                  + (f" ({', '.join(f'{p:.0f}' for p in pauses)} ms)" if pauses else "")
                  + f"; peak RSS {rss} MB; load average {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
