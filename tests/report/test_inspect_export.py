"""`trustbench export --format inspect`: the log reads back with inspect_ai.log.read_eval_log,
one sample per item with its scores, and the run's metrics in the results."""

from __future__ import annotations

import builtins
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trustbench.cli import app
from trustbench.errors import TrustbenchError

pytest.importorskip("inspect_ai")
from inspect_ai.log import read_eval_log  # noqa: E402

from trustbench.report.inspect_export import export_inspect  # noqa: E402

OLD_RUN = Path(__file__).resolve().parents[1] / "fixtures" / "run_v0_1"


def _samples(run: Path) -> list[dict]:
    return [json.loads(x) for x in (run / "samples.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("suffix", [".json", ".eval"])
def test_export_reads_back_with_inspect(tmp_path, suffix):
    out = tmp_path / f"log{suffix}"
    r = CliRunner().invoke(app, ["export", str(OLD_RUN), "--format", "inspect", "-o", str(out)])
    assert r.exit_code == 0, r.output
    log = read_eval_log(str(out))
    assert log.status == "success" and log.eval.task == "trustbench/trustllm" and log.eval.model == "openai/fake"
    ours = {f"{s['task']}/{s['id']}": s for s in _samples(OLD_RUN)}
    theirs = {s.id: s for s in log.samples}
    assert set(theirs) == set(ours) and len(log.samples) == 9
    for sid, s in ours.items():
        t = theirs[sid]
        assert t.input[-1].content == s["messages"][-1]["content"]
        assert t.scores["trustbench"].value == s["score"]
        assert t.scores["trustbench"].metadata["verdicts"] == s["verdicts"]
        if s["response"] is None:
            assert t.error is not None and t.error.message == s["error"] and t.output.error == s["error"]
        else:
            assert t.error is None and t.output.completion == s["response"]
    results = json.loads((OLD_RUN / "results.json").read_text())
    groups = {g.name: g for g in log.results.scores}
    for task, tr in results["tasks"].items():
        for key, m in tr["metrics"].items():
            if m["value"] is None:
                assert key in groups[task].metadata["not_computed"]
            else:
                em = groups[task].metrics[key]
                assert em.value == m["value"] and em.metadata["n"] == m["n"] and em.metadata["ci"] == m["ci"]
    assert groups["dimensions"].metrics["safety"].value == results["dimensions"]["safety"]["score"]
    assert log.results.total_samples == 9 and log.results.completed_samples == 8


def test_export_of_a_synthetic_run_with_every_metric_kind(run_a, tmp_path):
    log = read_eval_log(str(export_inspect(run_a, tmp_path / "a.eval")))
    n = sum(1 for _ in (run_a / "samples.jsonl").open())
    assert len(log.samples) == n
    results = json.loads((run_a / "results.json").read_text())
    assert {g.name for g in log.results.scores} == {*results["tasks"], "dimensions"}


def test_export_errors_are_one_line(tmp_path, monkeypatch):
    with pytest.raises(TrustbenchError, match=r"ends in \.json or \.eval"):
        export_inspect(OLD_RUN, tmp_path / "log.txt")
    with pytest.raises(TrustbenchError, match="run directory not found"):
        export_inspect(tmp_path / "nope", tmp_path / "log.json")
    r = CliRunner().invoke(app, ["export", str(OLD_RUN), "--format", "csv", "-o", str(tmp_path / "x.json")])
    assert r.exit_code == 2 and "unknown export format 'csv'" in r.output
    real_import = builtins.__import__

    def no_inspect(name, *a, **k):
        if name.startswith("inspect_ai"):
            raise ImportError(name)
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_inspect)
    with pytest.raises(TrustbenchError, match=r"pip install 'trustbench\[inspect\]'"):
        export_inspect(OLD_RUN, tmp_path / "log.json")
