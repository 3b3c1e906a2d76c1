"""The default run end to end, cold: `trustbench run` with an empty cache and home directory.

    python bench/bench_default_run.py

Measures wall time from process start to exit (server start, generation of the whole built-in
suite with SmolLM2-135M, offline judges, scoring, report). Target: at most 10 minutes on 2 cores.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "TRUSTBENCH_HOME": f"{tmp}/home", "TRUSTBENCH_CACHE": f"{tmp}/cache.sqlite"}
        t0 = time.perf_counter()
        proc = subprocess.run(["trustbench", "run", "--out", f"{tmp}/run"], env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        print(proc.stdout[-2000:])
        if proc.returncode not in (0, 1):
            print(proc.stderr[-2000:])
            raise SystemExit(f"trustbench run exited {proc.returncode}")
        results = json.loads(Path(f"{tmp}/run/results.json").read_text())
        s = results["summary"]
        print(f"default run: {wall:.0f} s wall ({wall / 60:.1f} min) for {s['items']} items, "
              f"{s['model_calls']} model calls, {s['failed']} failed; exit {proc.returncode}")
        rates = json.loads(Path(f"{tmp}/home/rates.json").read_text())
        print(f"generation rate recorded for the next estimate: {next(iter(rates.values())):.2f} calls/s")
        print("target <= 600 s:", "met" if wall <= 600 else "NOT met")


if __name__ == "__main__":
    main()
