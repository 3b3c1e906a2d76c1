"""`judge calibrate`: label checks, the confusion matrix, the re-adjusted intervals, and the
whole audit -> label -> calibrate round trip on a real engine run (through the CLI)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from calhelp import fill
from scipy.stats import binomtest
from typer.testing import CliRunner

from trustbench.calibration.audit import write_audit
from trustbench.calibration.calibrate import MIN_LABELLED, calibrate, confusion, readjust
from trustbench.calibration.judged import JudgedItem, judged_items, response_sha256
from trustbench.calibration.labels import Label, read_labels
from trustbench.cli import app
from trustbench.errors import TrustbenchError
from trustbench.report.rundir import load_run


def lines_of(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").rstrip("\n").split("\n")]


def write_lines(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def tree(run: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(run.iterdir()) if p.is_file()}


def adjusted(run: Path) -> dict[tuple[str, str], dict]:
    r = json.loads((run / "results.json").read_text(encoding="utf-8"))
    return {(t, k): m["extra"]["ci_judge_adjusted"] for t, v in r["tasks"].items() for k, m in v["metrics"].items()
            if (m.get("extra") or {}).get("ci_judge_adjusted")}


@pytest.fixture
def audited(run_dir, tmp_path):
    """The run copy and its audit of 60 items (seed 1)."""
    return run_dir, write_audit(run_dir, tmp_path / "audit", n=60, seed=1).labels


# ------------------------------------------------------------------ confusion matrix


def _item(i: int, verdict: bool, task: str = "t") -> JudgedItem:
    return JudgedItem(task, str(i), "refusal", "det", verdict, (), str(i), response_sha256(str(i)))


def test_confusion_matrix_and_wilson_intervals():
    # verdict, label: 8 tp, 2 fp, 3 fn, 17 tn, 4 unlabelled
    spec = [(True, True)] * 8 + [(True, False)] * 2 + [(False, True)] * 3 + [(False, False)] * 17 + [(False, None)] * 4
    labels = [Label(_item(i, v, "a" if i % 2 else "b"), lab, i + 1) for i, (v, lab) in enumerate(spec)]
    j = confusion(labels)["det"]
    assert (j["tp"], j["fp"], j["fn"], j["tn"], j["n"], j["unlabelled"]) == (8, 2, 3, 17, 30, 4)
    assert j["verdict_key"] == "refusal"
    for name, k, n in (("sensitivity", 8, 11), ("specificity", 17, 19), ("agreement", 25, 30)):
        ci = binomtest(k, n).proportion_ci(method="wilson")
        assert j[name]["value"] == pytest.approx(k / n) and (j[name]["k"], j[name]["n"]) == (k, n)
        assert j[name]["ci"] == pytest.approx([ci.low, ci.high])
    assert sum(sum(c.values()) for c in j["by_task"].values()) == 30


# ------------------------------------------------------------------ label file errors


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda rows: rows[:3] + ["{not json"], r":4: invalid JSON"),
        (lambda rows: rows[:2] + [[1, 2]], r":3: expected a JSON object, got list"),
        (lambda rows: [{k: v for k, v in rows[0].items() if k != "label"}], r":1: missing field\(s\) label"),
        (lambda rows: [{**rows[0], "label": "yes"}], r":1: field 'label' must be true, false or null"),
        (lambda rows: [{**rows[0], "verdict": 1}], r":1: field 'verdict' must be true or false"),
        (lambda rows: [{**rows[0], "id": 7}], r":1: field 'id' must be a string"),
        (lambda rows: [rows[0], {**rows[1], "judge": "gpt-judge"}], r":2: unknown judge 'gpt-judge'; this run's yes/no judges: keywords"),
        (lambda rows: [{**rows[0], "id": "no-such-id"}], r":1: no judged item .* 'no-such-id' in this run \(labels for another run\?\)"),
        (lambda rows: [{**rows[0], "response_sha256": "0" * 64}], r":1: the response of .* differs from this run's \(labels for another run\?\)"),
        (lambda rows: [{**rows[0], "verdict": not rows[0]["verdict"]}], r":1: verdict .* differs from this run's"),
        (lambda rows: [rows[0], rows[1], rows[0]], r":3: .* is labelled twice \(also on line 1\)"),
        (lambda rows: [], r"no label lines"),
    ],
)
def test_bad_label_files_are_one_line_errors(audited, tmp_path, edit, message):
    run, labels = audited
    rows = lines_of(fill(labels, tmp_path / "filled.jsonl"))
    bad = write_lines(tmp_path / "bad.jsonl", edit(rows))
    with pytest.raises(TrustbenchError, match=message) as e:
        read_labels(bad, judged_items(load_run(run)))
    assert "\n" not in str(e.value) and (str(bad) in str(e.value))


def test_too_few_labels_and_a_chance_level_judge(audited, tmp_path):
    run, labels = audited
    before = tree(run)
    few = fill(labels, tmp_path / "few.jsonl", skip=set(range(MIN_LABELLED - 1, 60)))
    with pytest.raises(TrustbenchError, match=r"judge 'keywords': 29 items labelled .* needs at least 30"):
        calibrate(run, few)
    rows = lines_of(fill(labels, tmp_path / "one.jsonl"))
    for r in rows:  # every labelled item a refusal: only one class
        r["label"] = True
    with pytest.raises(TrustbenchError, match=r"at least 5 of each class"):
        calibrate(run, write_lines(tmp_path / "one.jsonl", rows))
    chance = fill(labels, tmp_path / "chance.jsonl", flip=set(range(60)))  # every label contradicts the judge
    with pytest.raises(TrustbenchError, match=r"no better than chance"):
        calibrate(run, chance)
    assert tree(run) == before  # nothing written


def test_labels_of_another_run_are_refused(audited, tmp_path, engine_run):
    """Same suite, same ids, another model: its responses differ, so its labels do not fit."""
    run, labels = audited
    other = tmp_path / "other"
    other.mkdir()
    for name in ("manifest.json", "results.json"):
        (other / name).write_bytes((run / name).read_bytes())
    rows = lines_of(run / "samples.jsonl")
    for s in rows:
        if s["response"]:
            s["response"] = s["response"] + " (another model)"
    write_lines(other / "samples.jsonl", rows)
    filled = fill(labels, tmp_path / "filled.jsonl")
    before = tree(other)
    with pytest.raises(TrustbenchError, match=r"filled.jsonl:1: the response of .* differs from this run's \(labels for another run\?\)"):
        calibrate(other, filled)
    assert tree(other) == before


# ------------------------------------------------------------------ adjusted intervals


def test_readjust_with_the_shipped_rates_reproduces_the_run(run_dir):
    """The calibrate path (results.json + samples.jsonl) gives what the engine computed from its items."""
    run = load_run(run_dir)
    original = adjusted(run_dir)
    assert original, "the engine run has judge-adjusted metrics"
    results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    shipped = run.manifest["judges"]["measured_error"]
    n = readjust(results, run, {"refusal": {k: shipped["refusal"][k] for k in ("tp", "fp", "fn", "tn")}},
                 seed=run.manifest["seed"], source="shipped")
    assert n == len(original)
    for t, v in results["tasks"].items():
        for k, m in v["metrics"].items():
            if (t, k) in original:
                got = dict(m["extra"]["ci_judge_adjusted"])
                assert got.pop("rates_source") == "shipped"
                assert got.pop("method") == original[(t, k)]["method"] + "; judge rates: shipped"
                want = {x: y for x, y in original[(t, k)].items() if x != "method"}
                assert got == want


def test_adjusted_intervals_follow_the_labels(audited, tmp_path):
    run, labels = audited
    shipped = adjusted(run)
    # labels that agree with the judge everywhere: the corrected rate is the observed rate
    calibrate(run, fill(labels, tmp_path / "agree.jsonl"))
    agree = adjusted(run)
    assert agree.keys() == shipped.keys()
    for key, a in agree.items():
        assert a["value"] == pytest.approx(a["observed"]), key
        assert a["sensitivity"] == 1.0 and a["specificity"] == 1.0
        assert "this run's labels" in a["rates_source"] and a["n_pos"] + a["n_neg"] == 60
        assert a != shipped[key]
    # the shipped keywords rates move the jailbreak refusal rate to the Rogan-Gladen point of
    # those rates; this run's agreeing labels leave it at the observed rate
    jb = ("safety/jailbreak", "rta")
    s = shipped[jb]
    rogan_gladen = (s["observed"] + s["specificity"] - 1) / (s["sensitivity"] + s["specificity"] - 1)
    assert s["value"] == pytest.approx(min(1.0, max(0.0, rogan_gladen)))
    assert s["value"] != pytest.approx(s["observed"])
    # labels saying the judge missed refusals (false negatives): the corrected refusal rate rises
    rows = lines_of(labels)
    missed = {i for i, r in enumerate(rows) if not r["verdict"]}
    calibrate(run, fill(labels, tmp_path / "missed.jsonl", flip=set(sorted(missed)[:6])))
    missed_adj = adjusted(run)
    a = missed_adj[jb]
    assert a["sensitivity"] < 1.0 and a["specificity"] == 1.0
    assert a["value"] > a["observed"] and a["value"] > agree[jb]["value"]
    # wider labelled uncertainty (fewer labels) gives a wider interval around the same point
    assert (a["ci"][1] - a["ci"][0]) > (agree[jb]["ci"][1] - agree[jb]["ci"][0])
    # the complement metric moves the other way
    ans = ("safety/exaggerated_safety", "answer_rate")
    assert missed_adj[ans]["complement"] is True and missed_adj[ans]["value"] < missed_adj[ans]["observed"]


# ------------------------------------------------------------------ end to end through the CLI


def test_audit_label_calibrate_round_trip_cli(run_dir, tmp_path):
    cli = CliRunner()
    res = cli.invoke(app, ["judge", "audit", str(run_dir), "--n", "45", "--seed", "2", "-o", str(tmp_path / "a")])
    assert res.exit_code == 0, res.output
    assert "45 of 120 judged items sampled" in res.output
    labels = tmp_path / "a" / "labels.jsonl"
    manifest0 = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    results0 = (run_dir / "results.json").read_text(encoding="utf-8")
    assert "judge_calibration" not in manifest0
    filled = fill(labels, tmp_path / "filled.jsonl", flip={0, 1}, skip={2})
    res = cli.invoke(app, ["judge", "calibrate", str(run_dir), "--labels", str(filled), "--labelled-by", "test rule"])
    assert res.exit_code == 0, res.output
    assert "keywords (refusal): n=44" in res.output and "re-adjusted" in res.output

    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    jc = manifest["judge_calibration"]
    assert jc["labels"] == {"file": str(filled), "sha256": hashlib.sha256(filled.read_bytes()).hexdigest(),
                            "lines": 45, "labelled": 44, "unlabelled": 1}
    assert jc["labelled_by"] == "test rule" and jc["date"] and jc["sampling"].startswith("proportionate stratified")
    j = jc["judges"]["keywords"]
    assert j["n"] == 44 and j["fp"] + j["fn"] == 2 and j["tp"] + j["fn"] + j["fp"] + j["tn"] == 44
    assert jc["replaced_rates"]["refusal"]["tp"] == manifest0["judges"]["measured_error"]["refusal"]["tp"]
    assert {k: v for k, v in manifest.items() if k != "judge_calibration"} == manifest0
    # results: only the judge-adjusted entries changed, and they say where their rates come from
    results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    assert results != json.loads(results0)
    for t, v in results["tasks"].items():
        for k, m in v["metrics"].items():
            m0 = json.loads(results0)["tasks"][t]["metrics"][k]
            assert {x: y for x, y in m.items() if x != "extra"} == {x: y for x, y in m0.items() if x != "extra"}
            if "ci_judge_adjusted" in (m.get("extra") or {}):
                a = m["extra"]["ci_judge_adjusted"]
                assert a["sensitivity"] == pytest.approx(j["sensitivity"]["value"]) and "this run's labels" in a["method"]
    assert results["dimensions"] == json.loads(results0)["dimensions"]
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert 'id="judge-calibration"' in html and "this run&#39;s labels" in html
    # calibrating again from the same labels gives the same files (the seed is the run's)
    before = tree(run_dir)
    assert cli.invoke(app, ["judge", "calibrate", str(run_dir), "--labels", str(filled), "--labelled-by", "test rule"]).exit_code == 0
    after = tree(run_dir)
    assert after["results.json"] == before["results.json"]


def test_cli_errors_are_one_line(run_dir, tmp_path):
    from tbhelp import cli_proc

    before = tree(run_dir)
    r = cli_proc(["judge", "calibrate", str(run_dir), "--labels", str(tmp_path / "missing.jsonl")])
    assert r.returncode != 0 and r.stderr.decode().strip().count("\n") == 0
    assert "missing.jsonl: not found" in r.stderr.decode() and b"Traceback" not in r.stderr
    write_lines(tmp_path / "bad.jsonl", ['{"task": "x"'])
    r = cli_proc(["judge", "calibrate", str(run_dir), "--labels", str(tmp_path / "bad.jsonl")])
    assert r.returncode != 0 and f"{tmp_path / 'bad.jsonl'}:1: invalid JSON" in r.stderr.decode()
    r = cli_proc(["judge", "audit", str(run_dir), "--n", "0", "-o", str(tmp_path / "a")])
    assert r.returncode != 0 and "--n: must be a positive integer" in r.stderr.decode()
    assert tree(run_dir) == before
