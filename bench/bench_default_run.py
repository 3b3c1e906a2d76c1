"""The default run end to end, cold: `trustbench run` with an empty cache and home directory.

    python bench/bench_default_run.py

Measures wall time from process start to exit (server start, generation of the whole built-in
suite with SmolLM2-135M, offline judges, scoring, report). Target: at most 10 minutes on 2 cores.
Runs this checkout's source (`python -m trustbench.cli`, PYTHONPATH=src) with an empty HOME, so no
cache, rates.json or model state from earlier runs is used; compares the first line's estimate
with the generation window the run measured.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = str(Path(__file__).resolve().parents[1] / "src")
        env = {k: v for k, v in os.environ.items() if k not in ("TRUSTBENCH_HOME", "TRUSTBENCH_CACHE")}
        env.update(HOME=f"{tmp}/home", PYTHONPATH=src, HF_HUB_OFFLINE="1")
        os.makedirs(f"{tmp}/home")
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "trustbench.cli", "run", "--out", f"{tmp}/run", "--no-progress"],
                              env=env, capture_output=True, text=True, cwd=tmp)
        wall = time.perf_counter() - t0
        print(proc.stdout[-2000:])
        if proc.returncode not in (0, 1):
            print(proc.stderr[-2000:])
            raise SystemExit(f"trustbench run exited {proc.returncode}")
        results = json.loads(Path(f"{tmp}/run/results.json").read_text())
        s = results["summary"]
        print(f"default run: {wall:.0f} s wall ({wall / 60:.1f} min) for {s['items']} items, "
              f"{s['model_calls']} model calls, {s['failed']} failed; exit {proc.returncode}")
        est = re.search(r"expected ~([\d.]+) (s|min)", proc.stdout)
        gen = s.get("generation_seconds")
        if est and gen:
            first = float(est.group(1)) * (60 if est.group(2) == "min" else 1)
            print(f"first line's estimate {first:.0f} s; generation took {gen:.0f} s "
                  f"({s['model_calls'] / gen:.2f} calls/s); whole run {wall:.0f} s")
        rates = next(Path(tmp, "home").rglob("rates.json"), None)
        if rates:
            print(f"generation rate recorded for the next estimate: {next(iter(json.loads(rates.read_text()).values())):.2f} calls/s")
        print("target <= 600 s:", "met" if wall <= 600 else "NOT met")


if __name__ == "__main__":
    main()
