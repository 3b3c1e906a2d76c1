"""Typed run records: a run directory written before the records existed still loads, and
writing it back through the typed writer gives the same bytes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from trustbench.engine.rundir import RunWriter
from trustbench.errors import TrustbenchError
from trustbench.records import Manifest, Results, Sample
from trustbench.report.rundir import load_run

OLD_RUN = Path(__file__).resolve().parents[1] / "fixtures" / "run_v0_1"  # written by trustbench at e4f206e


def test_a_run_written_before_the_records_loads_typed():
    run = load_run(OLD_RUN)
    assert isinstance(run.manifest_record, Manifest) and isinstance(run.results_record, Results)
    assert run.manifest_record.model.spec == "openai:fake"
    assert run.manifest_record.dataset_files["safety/misuse"].records == 3
    rta = run.results_record.tasks["safety/jailbreak"].metrics["rta"]
    assert (rta.value, rta.n, rta.total, rta.coverage) == (0.5, 2, 3, 2 / 3)
    samples = list(run.iter_sample_records())
    assert len(samples) == 9 and all(isinstance(s, Sample) for s in samples)
    failed = [s for s in samples if s.response is None]
    assert len(failed) == 1 and "HTTP 500" in failed[0].error
    assert run.results_record.summary.failed == 1


def test_the_typed_writer_gives_the_same_bytes(tmp_path):
    run = load_run(OLD_RUN)
    w = RunWriter(tmp_path)
    w.write_manifest(run.manifest)
    w.write_results(run.results_record)
    w.write_samples(list(run.iter_sample_records()))
    for name in ("manifest.json", "results.json", "samples.jsonl"):
        assert (tmp_path / name).read_bytes() == (OLD_RUN / name).read_bytes(), name


def test_unknown_fields_pass_through_and_ints_stay_ints(tmp_path):
    s = Sample.model_validate({"task": "t", "id": 7, "shard": 2, "score": {"x": 1}})
    assert s.dump() == {"task": "t", "id": 7, "shard": 2, "score": {"x": 1}}
    m = Results.model_validate({"tasks": {"a/b": {"metrics": {"k": {"value": 1, "ci": [0, 1]}}}}})
    assert json.dumps(m.dump()) == '{"tasks": {"a/b": {"metrics": {"k": {"value": 1, "ci": [0, 1]}}}}}'


@pytest.mark.parametrize("name, bad, fragment", [
    ("manifest.json", {"model": {"spec": 3}}, "malformed manifest (field model.spec"),
    ("manifest.json", {"dataset_files": {"x": {"path": "p"}}}, "malformed manifest (field dataset_files.x.sha256"),
    ("results.json", {"tasks": {"a/b": {"metrics": {"k": {"value": "high"}}}}}, "metric a/b:k value is not a number"),
    ("results.json", {"tasks": {"a/b": {"metrics": {"k": {"n": 1}}}}}, "metric a/b:k is not a metric record"),
    ("results.json", {"tasks": {"a/b": {}}}, "task 'a/b' has no object 'metrics'"),
])
def test_malformed_files_are_one_line_errors(tmp_path, name, bad, fragment):
    run = tmp_path / "run"
    shutil.copytree(OLD_RUN, run)
    (run / name).write_text(json.dumps(bad))
    with pytest.raises(TrustbenchError) as e:
        load_run(run)
    assert fragment in str(e.value) and str(run / name) in str(e.value) and "\n" not in str(e.value)


def test_malformed_sample_line(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(OLD_RUN, run)
    with (run / "samples.jsonl").open("a") as f:
        f.write(json.dumps({"task": "t", "id": "x", "messages": "not a list"}) + "\n")
    with pytest.raises(TrustbenchError, match=r"samples\.jsonl:10: malformed sample \(field messages"):
        list(load_run(run).iter_samples())
