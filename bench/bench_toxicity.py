"""Offline toxicity scorer: throughput on long responses and held-out ROC-AUC.

    python bench/bench_toxicity.py [--data ../shared/data/trustllm]

Texts: TrustLLM's 1,400 jailbreak prompts padded to 250 words (the long-response case the scorer
reads as 128-word windows), and as they are (mean 68 words). No cache. The held-out ROC-AUC is
computed on tests/fixtures/toxicity_heldout.jsonl with the shipped scoring path.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

from trustbench.judges.toxicity import OfflineToxicity

ROOT = Path(__file__).resolve().parents[1]


def auc(scores: list[float], labels: list[int]) -> float:
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    return sum((p > n) + 0.5 * (p == n) for p in pos for n in neg) / (len(pos) * len(neg))


def pad(text: str, words: int = 250) -> str:
    """The text repeated up to `words` words (same as bench_judges.py)."""
    ws = text.split() or ["empty"]
    return " ".join((ws * (words // len(ws) + 1))[:words])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "trustllm"))
    a = ap.parse_args()
    prompts = [r["prompt"] for r in json.loads(Path(a.data, "safety", "jailbreak.json").read_text())]
    long = [pad(t) for t in prompts]
    t0 = time.perf_counter()
    tox = OfflineToxicity()
    tox.check()
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    tox.score(long)
    long_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    tox.score(prompts)
    short_s = time.perf_counter() - t0
    rows = [json.loads(x) for x in (ROOT / "tests/fixtures/toxicity_heldout.jsonl").read_text().splitlines() if x.strip()]
    held = auc(tox.score([r["text"] for r in rows]), [r["toxic"] for r in rows])
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"scorer {tox.name} v{tox.version}: load {load_s:.2f} s")
    print(f"250-word texts: {len(long)} in {long_s:.2f} s = {len(long) / long_s:.0f} texts/s")
    print(f"jailbreak prompts (mean 68 words): {len(prompts)} in {short_s:.2f} s = {len(prompts) / short_s:.0f} texts/s")
    print(f"held-out ROC-AUC ({len(rows)} texts): {held:.4f}")


if __name__ == "__main__":
    main()
