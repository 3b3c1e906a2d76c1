"""Where a run's time goes outside generation: a 2,000-request safety run against the fake server.

    python bench/bench_overhead.py [--data ../shared/data/trustllm] [--repeat 3] [--before-src DIR]

1. End to end: `trustbench run` (jailbreak + misuse, 1,000 records each, concurrency 64, default
   judges, HTML report) as a fresh process (bytecode written first, as an installed package has
   it) against a fake OpenAI-compatible server with 100 ms
   latency (its own process), empty HOME and cache. Prints wall clock, the run's generation window
   (results.json summary.generation_seconds) and their ratio (target <= 1.3).
   With --before-src (the src/ of an older checkout, e.g. `git archive <commit> src | tar -x -C DIR`),
   that code runs the same command alternately with this checkout, for a before/after wall clock.
2. Breakdown: the same run in this process with timers around each phase (imports measured in a
   fresh interpreter: `python -c "import trustbench.cli"`).
"""

from __future__ import annotations

import argparse
import asyncio
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
sys.path.insert(0, str(ROOT / "src"))  # the breakdown runs this checkout in process
from bench_engine import fresh_env, precompile, start_server  # noqa: E402


def run_args(url: str, data: str, tmp: str, tasks: str = "safety/jailbreak,safety/misuse", limit: int = 1000) -> list[str]:
    return ["run", "--model", "openai:bench", "--base-url", url, "--suite", "trustllm", "--data", data,
            "--tasks", tasks, "--limit", str(limit), "--out", f"{tmp}/run",
            "--cache", f"{tmp}/cache.sqlite", "--concurrency", "64", "--no-progress"]


def end_to_end(url: str, data: str, src: Path = ROOT / "src") -> tuple[float, float | None]:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "trustbench.cli", *run_args(url, data, tmp)], env=fresh_env(tmp, src),
                       check=True, capture_output=True)
        wall = time.perf_counter() - t0
        gen = json.loads(Path(tmp, "run", "results.json").read_text())["summary"].get("generation_seconds")
        return wall, gen


def breakdown(url: str, data: str) -> dict[str, float]:
    """Wall-clock phases of one in-process run (generation overlaps the judge loading and each
    task's judging and scoring, so the phases after generation are what a user waits for)."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import trustbench.cli"], check=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    times: dict[str, float] = {"python + import trustbench.cli (fresh process)": time.perf_counter() - t0}
    import trustbench.report as report
    from trustbench.engine import pipeline, runner

    marks: dict[str, float] = {}

    def timed(name, fn, is_async=False):
        if is_async:
            async def wrapper(*a, **k):
                marks.setdefault(f"> {name}", time.perf_counter())
                try:
                    return await fn(*a, **k)
                finally:
                    marks[f"< {name}"] = time.perf_counter()
        else:
            def wrapper(*a, **k):
                marks.setdefault(f"> {name}", time.perf_counter())
                try:
                    return fn(*a, **k)
                finally:
                    marks[f"< {name}"] = time.perf_counter()
        return wrapper

    runner.load_datasets = timed("start", runner.load_datasets)
    runner.build_judges = timed("judges", runner.build_judges)
    runner.generate = timed("generate", runner.generate, True)
    pipeline.Pipeline.finish = timed("finish", pipeline.Pipeline.finish, True)
    runner.write_run = timed("write", runner.write_run)
    report.write_report = timed("report", report.write_report)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TRUSTBENCH_HOME"] = tmp
        from trustbench.cli import app

        t = time.perf_counter()
        try:
            app(run_args(url, data, tmp), standalone_mode=False)
        except SystemExit:
            pass
        end = time.perf_counter()
    times["run() start to the first request (data, plan, model)"] = marks["> generate"] - marks["> start"]
    times["build judges (overlaps generation)"] = marks["< judges"] - marks["> judges"]
    times["generation (first request to last response)"] = marks["< generate"] - marks["> generate"]
    times["after the last response: last tasks judged + scored"] = marks["< finish"] - marks["< generate"]
    times["write run directory"] = marks["< write"] - marks["> write"]
    times["report.html"] = marks["< report"] - marks["> report"]
    times["whole run() in process"] = end - t
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "trustllm"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--before-src", type=Path)
    a = ap.parse_args()
    for src in (ROOT / "src", a.before_src):  # bytecode written first, as an installed package has it
        if src:
            precompile(src)
    proc, url = start_server(0.1)
    try:
        runs, before = [], []
        for _ in range(a.repeat):
            if a.before_src:
                before.append(end_to_end(url, a.data, a.before_src))
            runs.append(end_to_end(url, a.data))
        if before:
            print(f"before ({a.before_src}): end to end {', '.join(f'{w:.2f}' for w, _ in before)} s, "
                  f"median {statistics.median(w for w, _ in before):.2f} s; generation windows "
                  f"{', '.join(f'{g:.2f}' if g else '?' for _, g in before)} s")
        for wall, gen in runs:
            print(f"end to end {wall:.2f} s, generation window {gen:.2f} s, ratio {wall / gen:.2f}")
        print(f"median ratio whole run / generation window: {statistics.median(w / g for w, g in runs):.2f} "
              f"(target <= 1.3); load average {os.getloadavg()[0]:.1f}")
        print("breakdown (one in-process run):")
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()):
            parts = breakdown(url, a.data)
        for k, v in parts.items():
            print(f"  {k:<50} {v:6.2f} s")
    finally:
        proc.terminate()


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    main()
