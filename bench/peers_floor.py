"""The floor under trustbench's whole run in bench_peers.py: the least a Python process can do with
the same HTTP client, timed from its start to its exit.

    python bench/peers_floor.py URL PROMPTS.json    # prints its generation window in seconds

A fresh interpreter imports aiohttp (trustbench's transport), reads the prompts, sends them at
concurrency 64 over one session, appends each answer to a JSONL journal, and exits: no command
line, data checks, plan, cache, judges, scoring or report. Whatever trustbench takes beyond this
process is its own overhead; what this process takes beyond the TrustLLM-style baseline's
generation window is interpreter start-up, the client's import and the client itself.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import aiohttp


async def run_floor(url: str, texts: list[str], concurrency: int = 64) -> float:
    gate = asyncio.Semaphore(concurrency)
    with tempfile.TemporaryDirectory() as tmp, Path(tmp, "samples.jsonl").open("a", encoding="utf-8") as journal:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None)) as session:

            async def one(i: int, prompt: str) -> None:
                body = {"model": "bench", "messages": [{"role": "user", "content": prompt}], "temperature": 0}
                async with gate, session.post(f"{url}/chat/completions", json=body) as r:
                    r.raise_for_status()
                    res = json.loads(await r.read())["choices"][0]["message"]["content"]
                journal.write(json.dumps({"index": i, "prompt": prompt, "res": res}) + "\n")

            t0 = time.perf_counter()
            await asyncio.gather(*(one(i, t) for i, t in enumerate(texts)))
            return time.perf_counter() - t0


if __name__ == "__main__":
    print(f"{asyncio.run(run_floor(sys.argv[1], json.loads(Path(sys.argv[2]).read_text()))):.4f}")
