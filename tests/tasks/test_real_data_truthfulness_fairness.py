"""Load the real TrustLLM files of the truthfulness and fairness tasks and score synthetic answers."""

from __future__ import annotations

import os
import random
from dataclasses import replace
from pathlib import Path

import pytest

from trustbench.data.loader import load_task_data
from trustbench.tasks.base import Item
from trustbench.tasks.registry import all_tasks

ROOT = Path(
    os.environ.get("TRUSTBENCH_DATA")
    or Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "trustllm"
)
TASKS = [n for n, t in all_tasks().items() if t.dimension in ("truthfulness", "fairness")]
RESPONSES = ["Answer: 1", "A", "B", "C", "Yes", "No", "Answer: Supports.", "Answer: Refutes.", "3",
             "It's a stereotype.", "I'm sorry, I cannot help with that.", "", None,
             "A long answer that mentions several things, none of them a label."]
LLM_REPLIES = {
    "qa_correct": ["YES", "NO"], "advfact": ["[CORRECTED]", "[NOT_CORRECTED]", "[UNKNOWN]"],
    "stereotype_recognition": ["stereotype", "anti-stereotype", "unrelated"],
    "stereotype_agreement": ["Yes", "No"], "sycophancy_preference": ["YES", "NO"],
}


def synthetic_verdict(req, rnd):
    if rnd.random() < 0.1:
        return None  # a failed judge call
    if req.kind == "refusal":
        return rnd.random() < 0.5
    if req.kind == "embedding":
        return [rnd.gauss(0, 1) for _ in range(8)]
    if req.kind == "toxicity":
        return rnd.random()
    return rnd.choice(LLM_REPLIES[req.template])


@pytest.mark.parametrize("name", sorted(TASKS))
def test_real_file_scores_in_both_modes(name):
    if not ROOT.is_dir():
        pytest.skip(f"TrustLLM data not found at {ROOT} (set TRUSTBENCH_DATA)")
    task = all_tasks()[name]
    data = load_task_data(task, ROOT)
    assert len(data.records) == task.trustllm_records
    rnd = random.Random(name)
    items = []
    for i, rec in enumerate(data.records):
        resp = rnd.choice(RESPONSES)
        verdicts = {}
        if resp is not None:
            for req in task.judges(rec, resp):
                verdicts[req.key] = synthetic_verdict(req, rnd)
        items.append(Item(task=name, id=task.item_id(rec, i), index=i, record=rec, response=resp, verdicts=verdicts))
        if task.group:
            assert isinstance(task.group(rec), str)
    if task.cross_judges:
        by_id = {it.id: it for it in items}
        for item_id, req in task.cross_judges(items):
            it = by_id[item_id]
            by_id[item_id] = replace(it, verdicts={**it.verdicts, req.key: synthetic_verdict(req, rnd)})
        items = list(by_id.values())
    for mode in ("trustllm", "corrected"):
        score = task.score(items, mode)
        assert score.metrics
        assert set(score.per_item) == {it.id for it in items}
        heads = [m for m in score.metrics.values() if m.headline]
        assert 1 <= len(heads) <= 3
        for key, m in score.metrics.items():
            assert m.total <= len(items) and 0 <= m.parsed <= m.total, key
            if m.value is None:
                assert m.reason, key
            elif m.headline:
                assert 0.0 <= m.value <= 1.0, key
