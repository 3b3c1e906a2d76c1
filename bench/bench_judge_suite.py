"""Time to judge a whole TrustLLM-size run offline with the default judges.

    python bench/bench_judge_suite.py [--data ../shared/data/trustllm]

Every one of the 16,441 records gets a stand-in response (its own prompt, cut to 400
characters: real responses are not available offline), then `apply_judges` runs the
default offline judges the run would use: the refusal classifier, MiniLM embeddings and
the offline toxicity scorer (the LLM-judge requests are recorded as "no judge configured").
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from pathlib import Path

from trustbench.core.cache import Cache
from trustbench.data.loader import load_task_data
from trustbench.engine.judging import apply_judges
from trustbench.engine.runner import RunConfig, build_judges
from trustbench.tasks.base import Item
from trustbench.tasks.registry import all_tasks


async def main_async(root: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        judges = build_judges(RunConfig(), Cache(f"{tmp}/c.sqlite"))
        total_items = 0
        kinds: Counter[str] = Counter()
        t0 = time.perf_counter()
        for task in all_tasks().values():
            data = load_task_data(task, root)
            items = [
                Item(task=task.name, id=task.item_id(r, i), index=i, record=r, response=r["prompt"][:400],
                     verdicts=task.frozen(r))
                for i, r in enumerate(data.records)
            ]
            for it in items:
                kinds.update(req.kind for req in task.judges(it.record, it.response or ""))
            t = time.perf_counter()
            await apply_judges(task, items, judges)
            print(f"{task.name:45s} {len(items):6d} items {time.perf_counter() - t:7.1f} s")
            total_items += len(items)
        wall = time.perf_counter() - t0
        print(f"judge requests by kind: {dict(kinds)}")
        print(f"all {total_items} items judged offline in {wall:.0f} s ({total_items / wall:.0f} items/s)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "data" / "trustllm"))
    asyncio.run(main_async(Path(ap.parse_args().data)))


if __name__ == "__main__":
    main()
