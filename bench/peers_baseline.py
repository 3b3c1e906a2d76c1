"""The TrustLLM-0.4-style engine of bench_peers.py, importable and runnable as its own process.

    python bench/peers_baseline.py URL PROMPTS.json    # prints its generation window in seconds

Written here from TrustLLM's description (no TrustLLM code): a thread pool of blocking
`requests.post` calls, a new connection each, retries on 408/429/5xx with backoff, each result
appended to a samples.jsonl journal. It only generates.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

RETRY = {408, 429, 500, 502, 503, 504}


def run_baseline(url: str, texts: list[str], workers: int = 64, attempts: int = 6) -> float:
    """TrustLLM-style: blocking requests.post per prompt (no session: a new connection each) in a
    thread pool, retries with exponential backoff, each result appended to a JSONL journal."""
    import requests

    lock = threading.Lock()
    with tempfile.TemporaryDirectory() as tmp:
        journal = Path(tmp, "samples.jsonl")

        def one(i: int, prompt: str) -> None:
            body = {"model": "bench", "messages": [{"role": "user", "content": prompt}], "temperature": 0}
            res, err = None, None
            for attempt in range(attempts):
                try:
                    r = requests.post(f"{url}/chat/completions", json=body, timeout=300,
                                      headers={"Authorization": "Bearer unused"})
                    if r.status_code == 200:
                        res = r.json()["choices"][0]["message"]["content"]
                        break
                    err = f"HTTP {r.status_code}"
                    if r.status_code not in RETRY:
                        break
                except (requests.RequestException, ValueError, KeyError) as e:
                    err = type(e).__name__
                time.sleep(min(10.0, 2**attempt) * random.uniform(0.5, 1.0))
            line = json.dumps({"index": i, "prompt": prompt, "res": res, "error": None if res else err})
            with lock, journal.open("a", encoding="utf-8") as f:
                f.write(line + "\n")

        t0 = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(one, range(len(texts)), texts))
        wall = time.perf_counter() - t0
        lines = journal.read_text().splitlines()
        assert len(lines) == len(texts) and all(json.loads(x)["res"] for x in lines)
        return wall


if __name__ == "__main__":
    print(f"{run_baseline(sys.argv[1], json.loads(Path(sys.argv[2]).read_text())):.4f}")
