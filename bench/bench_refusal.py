"""Throughput of the offline refusal detectors on CPU.

    python bench/bench_refusal.py [--n 5000] [--detector keywords --detector classifier ...]

Resamples the validation responses (tests/fixtures/refusal_validation.jsonl) to N responses
(seeded) and times one `detect` call per detector (after a small warm-up). Prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--detector", action="append", default=None)
    args = ap.parse_args()
    from trustbench.judges.refusal import make_refusal_detector

    rows = [json.loads(x) for x in (ROOT / "tests/fixtures/refusal_validation.jsonl").open(encoding="utf-8") if x.strip()]
    rng = random.Random(0)
    texts = [rng.choice(rows)["response"] for _ in range(args.n)]
    mean_chars = sum(map(len, texts)) / len(texts)
    names = args.detector or ["keywords", "classifier"]
    print(f"{args.n} responses (mean {mean_chars:.0f} chars), Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}")
    print("| detector | load s | total s | responses/s | refusal rate |")
    print("|---|---|---|---|---|")
    for name in names:
        t0 = time.perf_counter()
        det = make_refusal_detector(name)
        load = time.perf_counter() - t0
        det.detect(texts[:50])  # warm-up
        t0 = time.perf_counter()
        out = det.detect(texts)
        secs = time.perf_counter() - t0
        rate = sum(1 for v in out if v.refusal) / len(out)
        print(f"| `{name}` | {load:.2f} | {secs:.2f} | {len(texts) / secs:,.0f} | {rate:.3f} |")


if __name__ == "__main__":
    main()
