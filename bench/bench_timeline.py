"""Where the wall clock of a fresh `trustbench run` goes, seen from the server's side.

    python bench/bench_timeline.py [--data ../shared/data/trustllm] [--rounds 5] [--src DIR ...]
                                   [--tasks SELECTOR --limit N]

The 2,000-request safety run of bench_peers.py and bench_overhead.py (jailbreak + misuse, 1,000
each, concurrency 64, default judges, HTML report; a fresh process with an empty HOME, bytecode
written first) against the fake server with 100 ms latency, which records when each request
arrives. Per round: process start to the first request's arrival (imports, data, plan, model),
first arrival to the last response (the last arrival + 100 ms), last response to process exit
(the last task judged and scored, run directory, report, exit), and the whole. The floor of the
middle part is ceil(2000 / 64) = 32 rounds of 100 ms = 3.2 s. Medians are printed at the end.
--tasks and --limit run another selection (e.g. `--tasks safety,ethics,fairness,privacy,truthfulness,robustness
--limit 100`: 24 tasks that finish one after another, so most are judged, scored and laid out for
the report while later ones generate; the middle part's floor then differs).
--src times another checkout's src/ (e.g. `git archive <commit> src | tar -x -C DIR`); given twice
or more, the rounds alternate between them (the order flipped each round) and each gets its medians.
"""

from __future__ import annotations

import argparse
import json
import os
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

LATENCY = 0.1


def one_round(data: str, src: Path, tasks: str, limit: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        arrivals = Path(tmp, "arrivals.txt")
        proc, url = start_server(LATENCY, str(arrivals))
        try:
            t0 = time.time()
            subprocess.run([sys.executable, "-m", "trustbench.cli", *run_args(url, data, tmp, tasks, limit)], env=fresh_env(tmp, src),
                           check=True, capture_output=True)
            t1 = time.time()
        finally:
            proc.terminate()
            proc.wait(10)
        times = sorted(float(x) for x in arrivals.read_text().split())
        calls = json.loads(Path(tmp, "run", "results.json").read_text())["summary"]["model_calls"]
        assert len(times) == calls, (len(times), calls)  # 1,999 by default: two of the 2,000 prompts are the same request
        last_response = times[-1] + LATENCY
        return {"start to first request": times[0] - t0, "first request to last response": last_response - times[0],
                "last response to exit": t1 - last_response, "whole run": t1 - t0}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "trustllm"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--tasks", default="safety/jailbreak,safety/misuse")
    ap.add_argument("--limit", type=int, default=1000)
    ap.add_argument("--src", type=Path, action="append",
                    help="the src/ of a checkout to time (default: this one); repeat to alternate between several")
    a = ap.parse_args()
    srcs = a.src or [ROOT / "src"]
    for src in srcs:
        precompile(src)
    rows: dict[Path, list[dict[str, float]]] = {src: [] for src in srcs}
    for r in range(a.rounds):
        for src in srcs if r % 2 == 0 else srcs[::-1]:
            rows[src].append(one_round(a.data, src, a.tasks, a.limit))
            print(f"round {r + 1}{f' {src}' if len(srcs) > 1 else ''}: "
                  + ", ".join(f"{k} {v:.3f} s" for k, v in rows[src][-1].items())
                  + f"; load average {os.getloadavg()[0]:.1f}", flush=True)
    for src, got in rows.items():
        floor = " (floor of the middle part: 3.2 s)" if (a.tasks, a.limit) == ("safety/jailbreak,safety/misuse", 1000) else ""
        print(f"\nmedians of {a.rounds} rounds{f' of {src}' if len(srcs) > 1 else ''}{floor}:")
        for k in got[0]:
            print(f"  {k:32s} {statistics.median(r[k] for r in got):.3f} s")


if __name__ == "__main__":
    main()
