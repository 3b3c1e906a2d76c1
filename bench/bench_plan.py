"""The plan of a run before its first request: every item's messages and cache key.

    python bench/bench_plan.py [--data ../shared/data/trustllm] [--repeat 7] [--src DIR ...]

The whole TrustLLM dataset (16,441 items, all six dimensions) is loaded once per checkout, then
planned `--repeat` times in that process (an `openai:` model, no request sent); the median and
the fastest are printed. --src, given twice or more, times other checkouts' src/ (e.g. `git
archive <commit> src | tar -x -C DIR`), each in its own process, alternating.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import statistics, sys, tempfile, time
from trustbench.engine.plan import load_datasets, plan
from trustbench.engine.runner import RunConfig, load_run_model
cfg = RunConfig(model="openai:bench", base_url="http://127.0.0.1:9/v1", suite="trustllm", data=sys.argv[1],
                tasks="safety,ethics,fairness,privacy,truthfulness,robustness", cache=sys.argv[3])
model = load_run_model(cfg)
_, _, datasets = load_datasets(cfg)
times = []
for _ in range(int(sys.argv[2])):
    t0 = time.perf_counter()
    planned = plan(datasets, model, cfg)
    times.append(time.perf_counter() - t0)
print(len(planned), statistics.median(times), min(times))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "trustllm"))
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--src", type=Path, action="append")
    a = ap.parse_args()
    srcs = a.src or [ROOT / "src"]
    for r in range(a.rounds):
        for src in srcs if r % 2 == 0 else srcs[::-1]:
            with tempfile.TemporaryDirectory() as tmp:
                out = subprocess.run([sys.executable, "-c", CHILD, a.data, str(a.repeat), f"{tmp}/c.sqlite"],
                                     env={**os.environ, "PYTHONPATH": str(src)}, check=True, capture_output=True,
                                     text=True).stdout.split()
            n, med, best = int(out[0]), float(out[1]), float(out[2])
            print(f"round {r + 1} {src}: plan of {n:,} items: median {med * 1000:.0f} ms, fastest {best * 1000:.0f} ms "
                  f"(of {a.repeat})", flush=True)


if __name__ == "__main__":
    main()
