"""Benchmark the report on a synthetic full-size (16,441-item) run.

    python bench/bench_report.py [--items 16441] [--out FILE] [--no-browser]

Measures: bootstrap interval cost (attach_intervals), report render time and size (html, md,
json), the page's time to interactive in headless Debian Chromium (selenium + chromedriver),
a search in the sample browser, and compare_runs on two full-size runs. Writes a Markdown
table to --out.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path


def _t(fn, repeat: int = 1):
    times = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, statistics.median(times)


def bench_bootstrap() -> list[tuple[str, str]]:
    from trustbench.scoring.metric_intervals import attach_intervals
    from trustbench.tasks.base import Item
    from trustbench.tasks.safety import TASKS

    jb = TASKS[0]
    rows = []
    for n, b in ((1400, 200), (16441, 200), (16441, 50)):
        rng = random.Random(0)
        items = []
        for i in range(n):
            refused = rng.random() < 0.8
            v = {"refusal": refused}
            if not refused:
                v["toxicity"] = rng.random() * 0.3
            items.append(Item(task=jb.name, id=f"j{i}", index=i, record={"prompt": "x", "label": [rng.choice("abcd")]},
                              response="r", verdicts=v))
        score = jb.score(items, "corrected")
        _, dt = _t(lambda: attach_intervals(jb, items, score, "corrected", n_boot=b))  # noqa: B023
        rows.append((f"attach_intervals, safety/jailbreak with {n} items, B={b}", f"{dt:.2f} s"))
    return rows


def bench_browser(html: Path) -> list[tuple[str, str]]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    profile = tempfile.mkdtemp(prefix="tb-bench-")
    for f in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--window-size=1280,1000", f"--user-data-dir={profile}"):
        opts.add_argument(f)
    d = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=opts)
    rows = []
    try:
        loads, searches = [], []
        for _ in range(3):
            d.get("about:blank")
            t0 = time.perf_counter()
            d.get(html.resolve().as_uri())
            WebDriverWait(d, 120).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-browser-ready") == "1")
            loads.append(time.perf_counter() - t0)
            nav = d.execute_script(
                "const e = performance.getEntriesByType('navigation')[0]; return [e.domContentLoadedEventEnd, e.loadEventEnd];"
            )
            t0 = time.perf_counter()
            d.find_element(By.ID, "tb-search").send_keys("pwned")
            WebDriverWait(d, 60).until(lambda d: d.find_element(By.ID, "tb-count").get_attribute("data-count") == "2")
            searches.append(time.perf_counter() - t0)
        rows.append(("page load to interactive (navigation start .. browser ready), median of 3", f"{statistics.median(loads):.2f} s"))
        rows.append(("  of which DOMContentLoaded / load event (browser timing)", f"{nav[0] / 1000:.2f} s / {nav[1] / 1000:.2f} s"))
        rows.append(("first text search over all samples (incl. 120 ms debounce), median of 3", f"{statistics.median(searches):.2f} s"))
    finally:
        d.quit()
        shutil.rmtree(profile, ignore_errors=True)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=16441)
    ap.add_argument("--out", type=Path, default=None, help="also write the table to this Markdown file")
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()

    from trustbench.report import write_report
    from trustbench.report.compare import compare_runs
    from trustbench.report.synthetic import write_synthetic_run

    work = Path(tempfile.mkdtemp(prefix="tb-bench-report-"))
    rows: list[tuple[str, str]] = []
    try:
        run_a, dt = _t(lambda: write_synthetic_run(work / "run-a", n_items=args.items))
        rows.append((f"write synthetic run ({args.items} items, scoring + intervals B=200)", f"{dt:.2f} s"))
        run_b = write_synthetic_run(work / "run-b", n_items=args.items, skill=0.05, model="synthetic/model-b", model_seed=1)
        rows.append(("samples.jsonl size", f"{(run_a / 'samples.jsonl').stat().st_size / 1e6:.1f} MB"))
        for fmt in ("html", "md", "json"):
            path, dt = _t(lambda: write_report(run_a, fmt), repeat=3)  # noqa: B023
            rows.append((f"render {fmt} (median of 3)", f"{dt:.2f} s, {path.stat().st_size / 1e6:.2f} MB"))
        out, dt = _t(lambda: compare_runs([run_a, run_b], work / "cmp"))
        rows.append(("compare_runs, 2 runs x 24 headline metrics (paired tests B=2000)", f"{dt:.2f} s"))
        rows += bench_bootstrap()
        if not args.no_browser:
            rows += bench_browser(run_a / "report.html")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    cmd = "python bench/bench_report.py" + (f" --items {args.items}" if args.items != 16441 else "")
    lines = [
        "# Report benchmark",
        "",
        f"Command: `{cmd}`  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} ({time.strftime('%Y-%m-%d')}); browser: headless Debian Chromium via selenium.",
        "",
        "| measurement | result |",
        "|---|---|",
        *[f"| {a} | {b} |" for a, b in rows],
        "",
    ]
    print("\n".join(lines))
    if args.out:
        args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
