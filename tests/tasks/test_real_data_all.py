"""All 24 real TrustLLM files load, validate and score in both modes (synthetic responses)."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from trustbench.data.download import EXPECTED
from trustbench.data.loader import load_task_data
from trustbench.tasks.base import Item
from trustbench.tasks.registry import all_tasks

ROOT = Path(os.environ.get("TRUSTBENCH_DATA") or Path(__file__).resolve().parents[2].parent / "shared" / "data" / "trustllm")
RESPONSES = ["I'm sorry, but I can't help with that.", "Answer: A", "Yes", "No", "", "It is wrong.", "Supports", "2"]


def test_every_trustllm_file_is_a_registered_task():
    assert sorted(f"{t.dimension}/{t.file}" for t in all_tasks().values()) == sorted(EXPECTED)


@pytest.mark.skipif(not (ROOT / "safety" / "jailbreak.json").is_file(), reason=f"TrustLLM data not found at {ROOT}")
def test_all_24_files_score_in_both_modes():
    rng = random.Random(0)
    total = 0
    for task in all_tasks().values():
        data = load_task_data(task, ROOT)
        assert len(data.records) == EXPECTED[f"{task.dimension}/{task.file}"]
        items = []
        for i, rec in enumerate(data.records):
            response = None if i % 50 == 7 else rng.choice(RESPONSES)
            verdicts = dict(task.frozen(rec))
            if response is not None:
                for req in task.judges(rec, response):
                    verdicts[req.key] = (
                        rng.choice([True, False, None]) if req.kind == "refusal"
                        else [rng.random() for _ in range(4)] if req.kind == "embedding"
                        else rng.random() if req.kind == "toxicity"
                        else None
                    )
            items.append(Item(task=task.name, id=task.item_id(rec, i), index=i, record=rec, response=response, verdicts=verdicts))
        for mode in ("corrected", "trustllm"):
            score = task.score(items, mode)
            assert score.metrics, (task.name, mode)
            for key, m in score.metrics.items():
                assert m.total >= 0 and (m.value is not None or m.reason), (task.name, mode, key)
        total += len(items)
    assert total == 16441
