"""The report and compare read what the real engine writes (fake OpenAI-compatible server, built-in suite)."""

from __future__ import annotations

import json

import pytest

from trustbench.report import write_report
from trustbench.report.compare import compare_runs
from trustbench.tasks.base import DIMENSIONS


@pytest.fixture
def engine_runs(tmp_path, monkeypatch):
    from trustbench.api import run
    from trustbench.testing.fakeserver import FakeServer

    monkeypatch.setenv("TRUSTBENCH_HOME", str(tmp_path / "home"))
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "TRUSTBENCH_CACHE", "TRUSTBENCH_DATA"):
        monkeypatch.delenv(var, raising=False)
    dirs = []
    with FakeServer(latency=0.001) as s:
        for name in ("a", "b"):
            dirs.append(run(model="openai:fake-model", base_url=s.url, out=str(tmp_path / name), limit=4,
                            refusal_detector="keywords", toxicity="none", embedder="none", progress=False,
                            report=True, n_boot=20, argv=["trustbench", "run"]).out_dir)
    return dirs


def test_engine_run_renders_and_compares(engine_runs, tmp_path):
    a, b = engine_runs
    html = (a / "report.html").read_text(encoding="utf-8")  # written by api.run, as by the CLI
    assert '<svg class="radar"' in html and 'id="tb-samples"' in html
    data = json.loads(write_report(a, "json").read_text())
    assert set(DIMENSIONS) <= set(data["dimensions"])
    assert data["frontier"] is not None
    assert write_report(a, "md").stat().st_size > 1000
    out = compare_runs([a, b], tmp_path / "cmp")
    cmp = json.loads((out / "comparison.json").read_text())
    assert cmp["tests"] and all(t["diff"] == pytest.approx(0) for t in cmp["tests"])  # same cached answers


def test_report_from_the_runs_rows_is_the_report_of_its_directory(tmp_path, monkeypatch):
    """A run makes each task's sample-browser rows while it scores and compresses them into the
    report's blob (RunResult.sample_blob), so its report does not read samples.jsonl back; that
    report is byte for byte the one rendered from the run directory, failed items and verdict
    filters included."""
    import base64
    import gzip

    from trustbench.api import run
    from trustbench.testing.fakeserver import FakeServer

    monkeypatch.setenv("TRUSTBENCH_HOME", str(tmp_path / "home"))
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "TRUSTBENCH_CACHE", "TRUSTBENCH_DATA"):
        monkeypatch.delenv(var, raising=False)
    with FakeServer(latency=0.001, faults=["500"] * 3) as s:
        res = run(model="openai:fake-model", base_url=s.url, out=str(tmp_path / "run"), limit=3, max_attempts=1,
                  concurrency=1, refusal_detector="keywords", toxicity="none", embedder="none", progress=False,
                  report=True, n_boot=20, argv=["trustbench", "run"])
    assert res.failed == 3
    made_blob = res.sample_blob.finish()
    assert sum(made_blob["failed"].values()) == 3 and made_blob["n"] == res.results["summary"]["items"]
    data = json.loads(gzip.decompress(base64.b64decode(made_blob["blob_b64"])))
    assert len(data["rows"]) == made_blob["n"] and data["tasks"] == list(res.results["tasks"])
    assert len(data["offered"]) > 3
    made = (res.out_dir / "report.html").read_bytes()
    assert write_report(res.out_dir, "html", tmp_path / "again.html").read_bytes() == made
