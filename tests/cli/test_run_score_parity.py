"""`run` and `score` share the scoring code: the same responses give the same numbers."""

from __future__ import annotations

import json

from tbhelp import FAST_FLAGS, assert_ok, cli, read_json, read_samples, run_args, write_suite

from trustbench.testing.fakeserver import FakeServer


def test_score_of_a_runs_responses_equals_the_run(tmp_path):
    data = write_suite(tmp_path / "data", n=9)
    with FakeServer() as server:
        assert_ok(cli(run_args(server.url, data, tmp_path / "run", tmp_path / "c.sqlite")))
    run_metrics = read_json(tmp_path / "run" / "results.json")["tasks"]

    # Lay the run's responses out as TrustLLM generation files (records + `res`).
    by_task: dict[str, dict[int, str | None]] = {}
    for s in read_samples(tmp_path / "run"):
        by_task.setdefault(s["task"], {})[s["index"]] = s["response"]
    gen = tmp_path / "generation_results"
    for task, responses in by_task.items():
        records = json.loads((data / f"{task}.json").read_text())
        out = gen / f"{task}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps([{**r, "res": responses[i]} for i, r in enumerate(records)]))

    flags = [f for f in FAST_FLAGS if f not in ("--no-report", "--no-progress", "--timeout", "0.5")]
    r = cli(["score", str(gen), "--cache", str(tmp_path / "c2.sqlite"), *flags])
    assert r.exit_code == 0, r.output
    scores = json.loads(r.stdout)
    compared = 0
    for task, entry in run_metrics.items():
        dim, stem = task.split("/")
        for key, m in entry["metrics"].items():
            assert scores[dim][stem][key]["value"] == m["value"], (task, key)
            assert scores[dim][stem][key]["n"] == m["n"], (task, key)
            compared += 1
    assert compared >= 6
