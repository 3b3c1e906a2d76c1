"""--limit, --sample/--seed (stratified), --tasks, and the files of a run directory."""

from __future__ import annotations

import hashlib
import json
from collections import Counter

import pytest
from tbhelp import ATTACKS, assert_ok, cli, jailbreak_records, read_json, read_samples, run_args, write_suite

from trustbench.data.loader import TaskData
from trustbench.engine.runner import select_records
from trustbench.tasks.registry import get_task


def _data(records, task="safety/jailbreak") -> TaskData:
    from pathlib import Path

    return TaskData(task=get_task(task), path=Path("x.json"), sha256="0", records=records)


def _strata(data: TaskData, idx: list[int]) -> Counter:
    return Counter(data.records[i]["label"][0] for i in idx)


def test_limit_takes_the_first_n():
    data = _data(jailbreak_records(20))
    assert select_records(data, 5, None, 0) == [0, 1, 2, 3, 4]
    assert select_records(data, 500, None, 0) == list(range(20))


def test_sample_is_deterministic_and_seeded():
    data = _data(jailbreak_records(60))
    a = select_records(data, None, 12, seed=7)
    assert a == select_records(data, None, 12, seed=7)
    assert len(a) == 12 == len(set(a)) and a == sorted(a)
    others = {tuple(select_records(data, None, 12, seed=s)) for s in range(8)}
    assert len(others) > 1  # the seed matters


def test_sample_is_stratified_and_proportional():
    data = _data(jailbreak_records(80))  # 40 'fixed sentence', ~13 each of three others
    idx = select_records(data, None, 20, seed=1)
    got = _strata(data, idx)
    assert set(got) == set(ATTACKS)
    assert got[ATTACKS[0]] == 10  # half the records, half the sample
    assert sum(got.values()) == 20


def test_sample_covers_small_strata_when_the_budget_allows():
    recs = jailbreak_records(40)
    for r in recs:
        r["label"] = [ATTACKS[0]]
    for i, attack in zip((5, 17, 33), ATTACKS[1:], strict=True):
        recs[i]["label"] = [attack]  # three strata of one record each
    data = _data(recs)
    for seed in range(5):
        idx = select_records(data, None, 4, seed=seed)
        assert _strata(data, idx) == Counter(dict.fromkeys(ATTACKS, 1)), seed


def test_sample_larger_than_the_task_takes_everything():
    data = _data(jailbreak_records(10))
    assert select_records(data, None, 10, 0) == list(range(10))
    assert select_records(data, None, 99, 0) == list(range(10))


def test_cli_limit_and_manifest(server, suite, tmp_path):
    out = tmp_path / "run"
    assert_ok(cli(run_args(server.url, suite, out, tmp_path / "c.sqlite", "--limit", "2")))
    samples = read_samples(out)
    assert Counter(s["task"] for s in samples) == {
        "safety/jailbreak": 2, "safety/misuse": 2, "safety/exaggerated_safety": 2}
    assert {s["index"] for s in samples} == {0, 1}
    m = read_json(out / "manifest.json")
    assert m["limit"] == 2 and m["sample"] is None


def test_cli_sample_is_stratified_and_reproducible(server, tmp_path):
    data = write_suite(tmp_path / "data", n_jail=40, n_misuse=9, n_exag=9)
    ids = []
    for name in ("a", "b"):
        out = tmp_path / name
        assert_ok(cli(run_args(server.url, data, out, tmp_path / "c.sqlite", "--sample", "8", "--seed", "3")))
        ids.append([(s["task"], s["id"]) for s in read_samples(out)])
        m = read_json(out / "manifest.json")
        assert m["sample"] == 8 and m["seed"] == 3
    assert ids[0] == ids[1]
    jail = [s for s in read_samples(tmp_path / "a") if s["task"] == "safety/jailbreak"]
    assert len(jail) == 8
    records = {r["id"]: r for r in json.loads((data / "safety" / "jailbreak.json").read_text())}
    assert {records[s["id"]]["label"][0] for s in jail} == set(ATTACKS)


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("safety/nope", "--tasks: unknown task or dimension 'safety/nope'"),
        ("nodimension", "--tasks: unknown task or dimension 'nodimension'"),
        ("safety,bogus", "'bogus'"),
        (",", "selects no tasks"),
    ],
)
def test_tasks_selection_errors(selector, message, server, suite, tmp_path):
    r = cli(run_args(server.url, suite, tmp_path / "run", tmp_path / "c.sqlite", "--tasks", selector))
    assert r.exit_code == 2 and r.exception is None or isinstance(r.exception, SystemExit)
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and message in lines[0], r.stderr
    assert server.state.requests == 0
    assert not (tmp_path / "run").exists()


def test_tasks_selects_tasks_and_dimensions(server, suite, tmp_path):
    out = tmp_path / "run"
    assert_ok(cli(run_args(server.url, suite, out, tmp_path / "c.sqlite", "--tasks", "safety/misuse,safety/jailbreak")))
    assert read_json(out / "manifest.json")["tasks"] == ["safety/jailbreak", "safety/misuse"]
    assert {s["task"] for s in read_samples(out)} == {"safety/jailbreak", "safety/misuse"}


def test_run_directory_files(server, suite, tmp_path):
    out = tmp_path / "run"
    assert_ok(cli(run_args(server.url, suite, out, tmp_path / "c.sqlite", "--seed", "5")))
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "results.json", "samples.jsonl"]

    m = read_json(out / "manifest.json")
    for key in ("trustbench_version", "run_id", "started_at", "ended_at", "suite", "dataset_files", "tasks",
                "model", "generation", "seed", "limit", "sample", "scoring", "judges", "command"):
        assert key in m, key
    assert m["run_id"] == "run" and m["seed"] == 5 and m["scoring"] == "corrected"
    assert m["ended_at"] and m["started_at"] <= m["ended_at"]
    assert m["suite"]["name"] == "trustllm"
    assert m["model"]["spec"] == "openai:fake" and m["model"]["identity"]["model"] == "fake"
    assert m["tasks"] == ["safety/jailbreak", "safety/misuse", "safety/exaggerated_safety"]
    for name, f in m["dataset_files"].items():
        raw = (suite / name.split("/")[0] / (name.split("/")[1] + ".json")).read_bytes()
        assert f["sha256"] == hashlib.sha256(raw).hexdigest() and f["records"] == 6
    assert m["generation"]["safety/misuse"]["temperature"] == 1.0
    assert m["generation"]["safety/misuse"]["seed"] == 5
    assert m["judges"]["refusal"]

    lines = (out / "samples.jsonl").read_text().splitlines()
    assert len(lines) == 18
    for line in lines:
        s = json.loads(line)
        for key in ("task", "id", "index", "messages", "response", "error", "verdicts", "score", "cached"):
            assert key in s
        assert s["messages"][-1]["role"] == "user"
    assert len({(json.loads(x)["task"], json.loads(x)["id"]) for x in lines}) == 18

    r = read_json(out / "results.json")
    assert r["summary"]["items"] == 18 and r["summary"]["failed"] == 0
    assert set(r["tasks"]) == set(m["tasks"])
    for task in r["tasks"].values():
        assert task["n_items"] == 6 and task["metrics"]
        for metric in task["metrics"].values():
            assert "n" in metric and "coverage" in metric
    assert r["tasks"]["safety/misuse"]["metrics"]["rta"]["coverage"] == 1.0
    assert "safety" in r["dimensions"]


def test_default_run_directory_and_cache_locations(server, suite, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = [a for a in run_args(server.url, suite, tmp_path / "x", tmp_path / "x.sqlite")]
    i = args.index("--out")
    del args[i : i + 2]
    i = args.index("--cache")
    del args[i : i + 2]
    assert_ok(cli(args))
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert run_dir.name.endswith("openai-fake")
    assert (tmp_path / "home" / "cache.sqlite").is_file()  # $TRUSTBENCH_HOME


def test_sample_lines_are_each_samples_record_dump_as_json():
    """samples.jsonl lines: validated as records.Sample, unset defaults left out, values JSON
    cannot hold written as json.dumps(default=str) writes them."""
    import math

    from trustbench.engine.rundir import sample_text
    from trustbench.records import Sample

    samples = [
        {"task": "t", "id": "a", "index": 0, "messages": [{"role": "user", "content": "é<x>"}], "response": "r",
         "verdicts": {"refusal": True}, "score": {"nan": math.nan, "pair": (1, 2)}, "cached": False},
        {"task": "t", "id": 7, "extra": {"set": {3}}},
    ]
    want = "".join(json.dumps(Sample.model_validate(s).dump(), ensure_ascii=False, default=str) + "\n" for s in samples)
    got = sample_text(samples)
    assert got == want
    first, second = (json.loads(line) for line in got.splitlines())
    assert "error" not in first and math.isnan(first["score"]["nan"]) and first["score"]["pair"] == [1, 2]
    assert second == {"task": "t", "id": 7, "extra": {"set": "{3}"}}
