"""Deterministic shards (`run --shard I/N`) and `trustbench merge` (fake server, built-in suite)."""

from __future__ import annotations

import json
import shutil

import pytest
from tbhelp import FAST_FLAGS, cli, metrics_of, outcome, read_json

from trustbench.engine.runner import RunConfig, run
from trustbench.engine.shard import parse_shard, unit_shard
from trustbench.errors import TrustbenchError
from trustbench.tasks.registry import all_tasks

TASKS = "robustness,truthfulness/sycophancy,safety/misuse"


def _run(url, out, cache, **kw):
    cfg = RunConfig(model="openai:fake", base_url=url, suite="builtin", tasks=TASKS, sample=16, out=str(out),
                    cache=str(cache), refusal_detector="keywords", toxicity="none", embedder="none",
                    progress=False, n_boot=30, argv=["trustbench", "run"], **kw)
    return run(cfg, say=lambda m: None)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from trustbench.testing.fakeserver import FakeServer

    tmp = tmp_path_factory.mktemp("shards")
    with FakeServer(latency=0.001) as s:
        whole = _run(s.url, tmp / "whole", tmp / "c1.sqlite").out_dir
        shards = [_run(s.url, tmp / f"s{i}", tmp / f"c{i}s.sqlite", shard=f"{i}/3").out_dir for i in range(3)]
        other = _run(s.url, tmp / "other", tmp / "c9.sqlite", shard="0/3", seed=5).out_dir
    return tmp, whole, shards, other


def _items(d):
    return [json.loads(x) for x in (d / "shard_items.jsonl").read_text().splitlines()]


def test_shards_split_by_unit_and_cover_the_run(runs):
    _, whole, shards, _ = runs
    full = set(outcome(whole))
    parts = [set(outcome(d)) for d in shards]
    assert all(parts) and sum(map(len, parts)) == len(full) and set().union(*parts) == full
    tasks = all_tasks()
    home: dict[tuple[str, str], int] = {}
    paired = 0
    for i, d in enumerate(shards):
        for row in _items(d):
            task = tasks[row["line"]["task"]]
            if task.unit is None:
                continue
            key = (task.name, task.unit(row["record"], row["line"]["index"]))
            paired += key in home
            assert home.setdefault(key, i) == i, f"unit {key} split across shards"
    assert paired > 10  # pairs and groups were really drawn (and kept together)


def test_merge_equals_unsharded(runs):
    tmp, whole, shards, _ = runs
    r = cli(["merge", *shards, "--out", tmp / "merged", "--no-report"])
    assert r.exit_code == 0, r.stderr
    merged = tmp / "merged"
    assert metrics_of(merged) == metrics_of(whole)
    assert outcome(merged) == outcome(whole)
    m = read_json(merged / "manifest.json")
    assert m["shard"] is None and [x["shard"] for x in m["merged_from"]] == ["0/3", "1/3", "2/3"]
    assert read_json(merged / "results.json")["summary"]["items"] == len(outcome(whole))


def test_merge_refuses_missing_repeated_mismatched(runs, tmp_path):
    _, _, shards, other = runs
    cases = [
        (shards[:2], "shard(s) 2/3 missing"),
        ([shards[0], shards[1], shards[1], shards[2]], "given twice"),
        ([other, shards[1], shards[2]], "not the same plan"),
        ([shards[0], tmp_path / "nowhere"], "not a directory"),
    ]
    for dirs, message in cases:
        r = cli(["merge", *dirs, "--out", tmp_path / "m"])
        assert r.exit_code != 0 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    unfinished = tmp_path / "unfinished2"
    shutil.copytree(shards[2], unfinished)
    (unfinished / "shard_items.jsonl").unlink()
    r = cli(["merge", shards[0], shards[1], unfinished, "--out", tmp_path / "m"])
    assert r.exit_code != 0 and "shard 2/3 did not finish" in r.stderr
    # an item copied into the wrong shard is refused as well
    bad = tmp_path / "bad1"
    shutil.copytree(shards[1], bad)
    with (bad / "shard_items.jsonl").open("a") as f:
        f.write((shards[0] / "shard_items.jsonl").read_text().splitlines()[0] + "\n")
    r = cli(["merge", shards[0], bad, shards[2], "--out", tmp_path / "m"])
    assert r.exit_code != 0 and "does not belong to shard 1/3" in r.stderr


def test_shard_ids_are_stable_and_flags_checked(tmp_path):
    # SHA-256 of "<task>\0<unit>", never Python's salted hash(): pinned values hold on any machine
    assert [unit_shard("t", str(i), 3) for i in range(8)] == PINNED
    assert parse_shard("2/5") == (2, 5)
    for bad in ("3/3", "-1/2", "1", "a/b", "0/0"):
        with pytest.raises(TrustbenchError, match="--shard"):
            parse_shard(bad)
    r = cli(["run", "--shard", "3/3", "--out", tmp_path / "x", *FAST_FLAGS])
    assert r.exit_code != 0 and "--shard" in r.stderr


PINNED = [0, 2, 1, 0, 1, 2, 2, 1]  # sha256-derived; a change here breaks resuming old shards
