"""`trustbench score LOG.eval`: an Inspect AI log of TrustLLM tasks is scored like a run."""

from __future__ import annotations

import json

import pytest
from tbhelp import assert_ok, cli, read_json, run_args

pytest.importorskip("inspect_ai")
from inspect_ai.log import EvalConfig, EvalDataset, EvalLog, EvalSample, EvalSpec, write_eval_log  # noqa: E402
from inspect_ai.model import ModelOutput  # noqa: E402

JUDGE_FLAGS = ["--refusal-detector", "keywords", "--embedder", "none", "--toxicity", "none"]


def test_export_then_score_gives_the_runs_metrics(server, suite, tmp_path):
    run = tmp_path / "run"
    server.state.faults = ["ok", "500"]
    assert cli(run_args(server.url, suite, run, tmp_path / "c.sqlite", "--max-attempts", "1",
                        "--concurrency", "1")).exit_code == 1  # one failed item travels too
    assert_ok(cli(["export", run, "-o", tmp_path / "run.eval"]))
    out = tmp_path / "scores.json"
    r = cli(["score", tmp_path / "run.eval", "--data", suite, "--tasks", "safety", "-o", out,
             "--cache", tmp_path / "c2.sqlite", *JUDGE_FLAGS])
    assert_ok(r)
    scores = read_json(out)["safety"]
    results = read_json(run / "results.json")["tasks"]
    assert set(scores) == {"jailbreak", "misuse", "exaggerated_safety"}
    for stem, metrics in scores.items():
        ours = results[f"safety/{stem}"]["metrics"]
        assert set(metrics) == set(ours)
        for key, m in metrics.items():
            assert (m["value"], m["n"], m["total"]) == (ours[key]["value"], ours[key]["n"], ours[key]["total"]), key
    assert results["safety/jailbreak"]["metrics"]["rta"]["total"] == 6


def _foreign_log(path, samples):
    log = EvalLog(
        eval=EvalSpec(created="2025-01-01T00:00:00+00:00", task="someone/trustllm_misuse",
                      dataset=EvalDataset(name="misuse"), model="openai/x", config=EvalConfig()),
        samples=samples,
    )
    write_eval_log(log, str(path), format="json")
    return path


def test_a_log_written_elsewhere_is_matched_by_prompt(suite, tmp_path):
    recs = json.loads((suite / "safety" / "misuse.json").read_text())
    samples = [
        EvalSample(id=i + 1, epoch=1, input=rec["prompt"], target="",
                   output=ModelOutput.from_content("openai/x", "I'm sorry, I can't help." if i % 2 else "Sure."))
        for i, rec in enumerate(recs[:4])
    ]
    log = _foreign_log(tmp_path / "log.json", samples)
    r = cli(["score", log, "--data", suite, "--tasks", "safety/misuse", "--cache", tmp_path / "c.sqlite", *JUDGE_FLAGS])
    assert_ok(r)
    rta = json.loads(r.stdout)["safety"]["misuse"]["rta"]
    assert (rta["value"], rta["n"], rta["total"]) == (0.5, 4, 4)


def test_an_unknown_prompt_is_a_one_line_error(suite, tmp_path):
    samples = [EvalSample(id="q1", epoch=1, input="a prompt in no TrustLLM file", target="",
                          output=ModelOutput.from_content("openai/x", "hi"))]
    log = _foreign_log(tmp_path / "log.json", samples)
    r = cli(["score", log, "--data", suite, "--tasks", "safety", "--cache", tmp_path / "c.sqlite", *JUDGE_FLAGS])
    assert r.exit_code == 2
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "sample q1: no record of the selected tasks has its prompt" in lines[0]
    (tmp_path / "not-a-log.json").write_text("[1, 2]")
    r = cli(["score", tmp_path / "not-a-log.json", "--data", suite, "--cache", tmp_path / "c.sqlite", *JUDGE_FLAGS])
    assert r.exit_code == 2 and "not a readable Inspect log" in r.stderr
