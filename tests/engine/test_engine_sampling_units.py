"""`--sample` draws whole units (pairs, variant groups) so paired scorers keep their pairs."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from trustbench.data.loader import TaskData
from trustbench.engine.runner import select_records
from trustbench.tasks.registry import get_task


def advglue_data(n_pairs: int) -> TaskData:
    records = []
    for t in ("sst2", "qqp"):
        for i in range(n_pairs):
            for kind in ("original", "modified"):
                records.append({"prompt": f"{t} {i} {kind}", "task": t, "index": i, "type": kind, "label": 0})
    return TaskData(task=get_task("robustness/AdvGLUE"), path=Path("x"), sha256="0", records=records)


def test_sample_keeps_advglue_pairs_whole_and_stratified():
    data = advglue_data(20)  # 80 records: 2 tasks x 20 pairs
    for seed in range(5):
        idx = select_records(data, None, 20, seed)
        pairs = Counter((data.records[i]["task"], data.records[i]["index"]) for i in idx)
        assert set(pairs.values()) == {2}  # never half a pair
        per_task = Counter(t for t, _ in pairs)
        assert per_task["sst2"] == per_task["qqp"] == 5  # 10 records per stratum
    assert select_records(data, None, 20, 1) == select_records(data, None, 20, 1)  # seeded
    assert select_records(data, None, 20, 1) != select_records(data, None, 20, 2)


def test_tasks_without_units_sample_single_records():
    recs = [{"prompt": f"p{i}", "label": ["cot" if i % 2 else "leetspeak"]} for i in range(30)]
    data = TaskData(task=get_task("safety/jailbreak"), path=Path("x"), sha256="0", records=recs)
    idx = select_records(data, None, 7, 0)
    assert len(idx) == 7 and len(set(idx)) == 7
