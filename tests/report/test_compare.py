"""compare_runs: paired tests on shared items, Holm adjustment, leaderboard, data checks."""

from __future__ import annotations

import json
import shutil

import pytest
from scipy import stats as st

from trustbench.errors import TrustbenchError
from trustbench.report.commands import compare_command
from trustbench.report.compare import compare_runs, metric_field
from trustbench.report.synthetic import write_synthetic_run
from trustbench.scoring.paired import holm
from trustbench.tasks.base import DIMENSIONS


def _samples(run_dir):
    out = {}
    for line in (run_dir / "samples.jsonl").read_text(encoding="utf-8").split("\n"):
        if line:
            s = json.loads(line)
            out[(s["task"], s["id"])] = s
    return out


@pytest.fixture(scope="module")
def comparison(run_a, run_b, tmp_path_factory):
    out = compare_runs([run_a, run_b], tmp_path_factory.mktemp("cmp"))
    return out, json.loads((out / "comparison.json").read_text())


def test_outputs_written(comparison):
    out, data = comparison
    for name in ("leaderboard.md", "leaderboard.html", "comparison.json"):
        assert (out / name).stat().st_size > 500
    html = (out / "leaderboard.html").read_text()
    assert '<svg class="radar"' in html and '<svg class="frontier"' in html and "<script" not in html
    md = (out / "leaderboard.md").read_text()
    assert "## Ranking per dimension" in md and "Holm-adjusted" in md
    assert data["adjustment"] == "holm"
    assert [r["label"] for r in data["runs"]] == ["synthetic/model-a", "synthetic/model-b"]


def test_leaderboard_ranks_the_better_model_first(comparison):
    _, data = comparison
    assert set(data["leaderboard"]) == set(DIMENSIONS)
    for rows in data["leaderboard"].values():
        assert [r["rank"] for r in rows] == [1, 2]
        assert rows[0]["score"] >= rows[1]["score"]
        assert rows[0]["ci"][0] <= rows[0]["score"] <= rows[0]["ci"][1]
    # skill +0.15 wins most dimensions
    assert sum(rows[0]["label"] == "synthetic/model-b" for rows in data["leaderboard"].values()) >= 5


def test_mcnemar_counts_match_the_samples(comparison, run_a, run_b):
    _, data = comparison
    sa, sb = _samples(run_a), _samples(run_b)
    t = next(t for t in data["tests"] if t["task"] == "safety/misuse" and t["metric"] == "rta")
    assert t["field"] == "refused" and t["method"].startswith("mcnemar")
    b01 = b10 = n = 0
    for key, a in sa.items():
        b = sb.get(key)
        if key[0] != "safety/misuse" or b is None:
            continue
        ra, rb = a["score"].get("refused"), b["score"].get("refused")
        if ra is None or rb is None:
            continue
        n += 1
        b01 += (not ra) and rb
        b10 += ra and (not rb)
    assert t["n_shared"] == n
    assert f"b01={b01}, b10={b10}" in t["method"]
    if b01 + b10 < 25:
        assert t["p_value"] == pytest.approx(st.binomtest(b01, b01 + b10, 0.5).pvalue)
    else:
        assert t["p_value"] == pytest.approx(st.chi2.sf((abs(b01 - b10) - 1) ** 2 / (b01 + b10), 1))
    assert t["diff"] == pytest.approx((b01 - b10) / n)


def test_negated_field_and_bootstrap_metrics(comparison):
    _, data = comparison
    by = {(t["task"], t["metric"]): t for t in data["tests"]}
    ex = by[("safety/exaggerated_safety", "answer_rate")]
    assert ex["field"] == "1 - refused"
    syc = by[("truthfulness/sycophancy", "score")]
    assert syc["method"].startswith("paired bootstrap") and syc["field"] == "similarity"
    leak = by[("privacy/privacy_leakage", "leak_rate")]
    assert leak["direction"] == "lower"
    if leak["significant"]:
        assert leak["better"] == ("synthetic/model-b" if leak["diff"] < 0 else "synthetic/model-a")


def test_holm_adjustment_over_all_tests(comparison):
    _, data = comparison
    raw = [t["p_value"] for t in data["tests"]]
    assert [t["p_holm"] for t in data["tests"]] == pytest.approx(holm(raw))
    assert len(data["tests"]) == 24  # one per headline metric
    for t in data["tests"]:
        assert t["significant"] == (t["p_holm"] < 0.05)
        assert (t["better"] is None) == (not t["significant"])


def test_identical_runs_show_no_difference(run_a, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(run_a, copy)
    data = json.loads((compare_runs([run_a, copy], tmp_path / "out") / "comparison.json").read_text())
    assert data["tests"] and all(t["diff"] == 0 and t["p_value"] == 1.0 and t["better"] is None for t in data["tests"])
    labels = [r["label"] for r in data["runs"]]
    assert len(set(labels)) == 2  # same model: labels carry the run id


def test_different_data_refused_unless_allowed(run_a, tmp_path):
    other = write_synthetic_run(tmp_path / "other-data", n_items=600, data_seed=1, n_boot=10)
    with pytest.raises(TrustbenchError) as e:
        compare_runs([run_a, other], tmp_path / "out")
    msg = str(e.value)
    assert "different data" in msg and "--allow-different-data" in msg and "\n" not in msg
    out = compare_runs([run_a, other], tmp_path / "out", allow_different_data=True)
    data = json.loads((out / "comparison.json").read_text())
    assert any("different data" in n for n in data["notes"])


def test_manifest_without_hashes_and_mixed_scoring(run_a, tmp_path):
    bare = tmp_path / "bare"
    shutil.copytree(run_a, bare)
    m = json.loads((bare / "manifest.json").read_text())
    del m["dataset_files"]
    (bare / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(TrustbenchError, match="no dataset_files"):
        compare_runs([run_a, bare], tmp_path / "o1")
    tl = write_synthetic_run(tmp_path / "tl", n_items=600, scoring="trustllm", n_boot=10)
    with pytest.raises(TrustbenchError, match="different modes"):
        compare_runs([run_a, tl], tmp_path / "o2")


def test_compare_command_errors(run_a, tmp_path):
    with pytest.raises(TrustbenchError, match="at least two"):
        compare_command([run_a], tmp_path)
    with pytest.raises(TrustbenchError, match="run directory not found"):
        compare_command([run_a, tmp_path / "nope"], tmp_path / "o")
    with pytest.raises(TrustbenchError, match="given twice"):
        compare_command([run_a, run_a], tmp_path / "o")


def test_metric_field_requires_matching_n():
    items = {"1": {"ok": True}, "2": {"ok": False}, "3": {"ok": None}, "4": {"ok": True}}
    assert metric_field({"value": 2 / 3, "n": 3}, "acc", items) == ("ok", False, True)
    assert metric_field({"value": 2 / 3, "n": 3, "successes": 2}, "acc", items) == ("ok", False, True)
    assert metric_field({"value": 1 / 3, "n": 3, "successes": 1}, "acc", items) == ("ok", True, True)
    # a degenerate 0 (say a macro-F1) is not taken for the mean of an all-false field
    zeros = {"1": {"ok": False}, "2": {"ok": False}}
    assert metric_field({"value": 0.0, "n": 2}, "macro_f1", zeros) is None
    assert metric_field({"value": 0.0, "n": 2, "successes": 0}, "rta", zeros) == ("ok", False, True)
    assert metric_field({"value": 1 / 3, "n": 3}, "err", items) == ("ok", True, True)
    assert metric_field({"value": 2 / 3, "n": 4}, "acc", items) is None
    assert metric_field({"value": 0.5, "n": 2}, "acc", {"1": {"s": 0.25}, "2": {"s": 0.75}}) == ("s", False, False)
