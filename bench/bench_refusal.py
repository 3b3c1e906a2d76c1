"""Throughput of the offline refusal detectors on CPU, and the refusal judging of a whole run.

    HF_HUB_OFFLINE=1 python bench/bench_refusal.py [--n 2000] [--detector ngram --detector minilm ...]
    HF_HUB_OFFLINE=1 python bench/bench_refusal.py --run [--data ../shared/data/trustllm]

Resamples the validation responses (tests/fixtures/refusal_validation.jsonl) to N responses
(seeded) and times one `detect` call per detector (after a small warm-up). Prints a table.
`--run`: every refusal request of the 16,441-record TrustLLM suite (each record's prompt, cut to 400
characters, stands in for its response, as in bench_judge_suite.py), judged by the default detector
in one call; prints the whole-run refusal judging time. torch (for `minilm` only; `ngram`, the default,
`classifier` and `keywords` need none) uses `--threads` threads (default 2).
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
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--detector", action="append", default=None)
    ap.add_argument("--run", action="store_true", help="time the refusal requests of a whole TrustLLM run")
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "trustllm"))
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    try:
        import torch

        torch.set_num_threads(args.threads)
    except ImportError:
        pass
    from trustbench.judges.refusal import DEFAULT_DETECTOR, make_refusal_detector

    if args.run:
        whole_run(Path(args.data), args.detector or [DEFAULT_DETECTOR])
        return

    rows = [json.loads(x) for x in (ROOT / "tests/fixtures/refusal_validation.jsonl").open(encoding="utf-8") if x.strip()]
    rng = random.Random(0)
    texts = [rng.choice(rows)["response"] for _ in range(args.n)]
    mean_chars = sum(map(len, texts)) / len(texts)
    names = args.detector or ["ngram", "minilm", "classifier", "keywords"]
    print(f"{args.n} responses (mean {mean_chars:.0f} chars), Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, torch threads {args.threads}, "
          f"load average {os.getloadavg()[0]:.1f}")
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


def whole_run(root: Path, names: list[str]) -> None:
    from trustbench.data.loader import load_task_data
    from trustbench.judges.refusal import make_refusal_detector
    from trustbench.tasks.registry import all_tasks

    texts: list[str] = []
    records = 0
    for task in all_tasks().values():
        for i, r in enumerate(load_task_data(task, root).records):
            records += 1
            response = r["prompt"][:400]
            frozen = task.frozen(r)
            texts += [q.text for q in task.judges(r, response) if q.kind == "refusal" and q.key not in frozen]
    print(f"{records} records, {len(texts)} refusal requests (mean {sum(map(len, texts)) / len(texts):.0f} chars), "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    for name in names:
        t0 = time.perf_counter()
        det = make_refusal_detector(name)
        load = time.perf_counter() - t0
        t0 = time.perf_counter()
        det.detect(texts)
        secs = time.perf_counter() - t0
        print(f"`{name}`: load {load:.1f} s, judged {len(texts)} in {secs:.1f} s ({len(texts) / secs:,.0f} responses/s); "
              f"load average after {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
