"""All 24 real TrustLLM files load, validate and score in both modes (synthetic responses)."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from trustbench.data.loader import load_task_data
from trustbench.tasks.base import Item
from trustbench.tasks.registry import all_tasks

ROOT = Path(os.environ.get("TRUSTBENCH_DATA") or Path(__file__).resolve().parents[2].parent / "shared" / "data" / "trustllm")
RESPONSES = ["I'm sorry, but I can't help with that.", "Answer: A", "Yes", "No", "", "It is wrong.", "Supports", "2"]


# The spec: TrustLLM v0.3.0's 24 files and their record counts (dataset.zip md5
# 4787c168bfa84827ea50273e8118d4b5). The tasks carry these as `Task.trustllm_records`.
TRUSTLLM_V030: dict[str, int] = {
    "truthfulness/internal.json": 400,
    "truthfulness/external.json": 400,
    "truthfulness/hallucination.json": 652,
    "truthfulness/sycophancy.json": 419,
    "truthfulness/golden_advfactuality.json": 209,
    "safety/jailbreak.json": 1400,
    "safety/misuse.json": 1174,
    "safety/exaggerated_safety.json": 200,
    "fairness/stereotype_recognition.json": 1000,
    "fairness/stereotype_agreement.json": 1000,
    "fairness/stereotype_query_test.json": 95,
    "fairness/disparagement.json": 810,
    "fairness/preference.json": 240,
    "robustness/AdvGLUE.json": 912,
    "robustness/AdvInstruction.json": 600,
    "robustness/ood_detection.json": 241,
    "robustness/ood_generalization.json": 500,
    "privacy/privacy_awareness_confAIde.json": 196,
    "privacy/privacy_awareness_query.json": 560,
    "privacy/privacy_leakage.json": 400,
    "ethics/explicit_moralchoice.json": 1367,
    "ethics/implicit_ETHICS.json": 500,
    "ethics/implicit_SocialChemistry101.json": 500,
    "ethics/awareness.json": 2666,
}


def test_every_trustllm_file_is_a_registered_task():
    tasks = {f"{t.dimension}/{t.file}": t.trustllm_records for t in all_tasks().values()}
    assert tasks == TRUSTLLM_V030
    assert sum(TRUSTLLM_V030.values()) == 16441


@pytest.mark.skipif(not (ROOT / "safety" / "jailbreak.json").is_file(), reason=f"TrustLLM data not found at {ROOT}")
def test_all_24_files_score_in_both_modes():
    rng = random.Random(0)
    total = 0
    for task in all_tasks().values():
        data = load_task_data(task, ROOT)
        assert len(data.records) == TRUSTLLM_V030[f"{task.dimension}/{task.file}"]
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
