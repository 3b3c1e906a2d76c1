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


def test_the_bootstrap_of_a_sample_resamples_the_units_it_drew():
    """Bootstrap intervals of a `--sample` run resample the same whole units, from outcomes parsed
    once; each repeat of a pair is a pair of its own (every original stays in a complete pair)."""
    from dataclasses import replace

    from trustbench.scoring.items import Item
    from trustbench.scoring.metric_intervals import attach_intervals

    data = advglue_data(30)
    idx = select_records(data, None, 40, 0)
    task = data.task
    items = [Item(task=task.name, id=f"r{i}", index=i, record=data.records[i],
                  response="yes" if data.records[i]["type"] == "original" or i % 3 else "no") for i in idx]
    seen: list[tuple[int, int, int]] = []
    real = task.score.aggregate

    def spy(outcomes, mode):
        out = real(outcomes, mode)
        originals = sum(o.type == "original" for o in outcomes)
        seen.append((originals, len(outcomes) - originals,
                     sum(out.metrics[f"asr/{t}"].extra["pairs"] for t in ("sst2", "qqp"))))
        return out

    spied = replace(task, score=replace(task.score, aggregate=spy))
    attach_intervals(spied, items, task.score(items, "corrected"), "corrected", seed=0, n_boot=30)
    assert len(seen) == 30 and all(o == m == p == 20 for o, m, p in seen)
