"""`judge audit`: the stratified sample (seeded, deterministic, proportionate), the files it
writes, and the escaping of model text in the labelling page."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from calhelp import truth

from trustbench.calibration.audit import allocate, stratified_sample, write_audit
from trustbench.calibration.judged import JudgedItem, judged_items, response_sha256
from trustbench.errors import TrustbenchError
from trustbench.report.rundir import load_run
from trustbench.report.synthetic import TRICKY_PROMPT, XSS_IMG, XSS_SCRIPT


def make_items(sizes: dict[tuple[str, bool], int], judge: str = "det") -> list[JudgedItem]:
    out = []
    for (task, verdict), k in sizes.items():
        for i in range(k):
            resp = f"{task} {verdict} {i}"
            out.append(JudgedItem(task, f"{task}-{verdict}-{i}", "refusal", judge, verdict, (("user", "p"),), resp,
                                  response_sha256(resp)))
    return out


SIZES = {("a", True): 300, ("a", False): 700, ("b", True): 20, ("b", False): 180, ("c", True): 1, ("c", False): 49}


def test_allocation_is_proportionate_and_exact():
    sizes = {("a", "j", True): 300, ("a", "j", False): 700, ("b", "j", True): 20, ("b", "j", False): 180}
    alloc = allocate(sizes, 120)
    assert sum(alloc.values()) == 120
    assert alloc == {("a", "j", True): 30, ("a", "j", False): 70, ("b", "j", True): 2, ("b", "j", False): 18}
    # remainders: 10 * (3/12, 7/12, 0.2/12...) -> largest fractional parts win, never more than the stratum
    small = allocate(sizes, 10)
    assert sum(small.values()) == 10 and all(small[k] <= sizes[k] for k in sizes)
    assert allocate(sizes, 5000) == sizes


def test_sample_is_stratified_by_task_and_verdict():
    items = make_items(SIZES)
    sample = stratified_sample(items, 125, seed=7)
    assert len(sample) == 125 and len({it.ident for it in sample}) == 125
    got = Counter((it.task, it.verdict) for it in sample)
    total = sum(SIZES.values())
    for k, size in SIZES.items():
        assert abs(got[k] - 125 * size / total) < 1, (k, got[k])


def test_sample_is_seeded_and_deterministic():
    items = make_items(SIZES)
    a = stratified_sample(items, 60, seed=1)
    assert [it.ident for it in a] == [it.ident for it in stratified_sample(items, 60, seed=1)]
    # the input order does not matter
    assert [it.ident for it in a] == [it.ident for it in stratified_sample(list(reversed(items)), 60, seed=1)]
    b = stratified_sample(items, 60, seed=2)
    assert {it.ident for it in a} != {it.ident for it in b}
    assert Counter((it.task, it.verdict) for it in a) == Counter((it.task, it.verdict) for it in b)


def test_sample_order_does_not_give_the_verdict_away():
    sample = stratified_sample(make_items({("a", True): 50, ("a", False): 50}), 40, seed=0)
    verdicts = [it.verdict for it in sample]
    runs = 1 + sum(1 for x, y in zip(verdicts, verdicts[1:]) if x != y)
    assert runs > 8  # grouped by stratum it would be 2


def test_sample_all_and_bad_n():
    items = make_items({("a", True): 3, ("a", False): 4})
    assert sorted(it.ident for it in stratified_sample(items, 100, seed=0)) == sorted(it.ident for it in items)
    with pytest.raises(TrustbenchError, match="--n"):
        stratified_sample(items, 0, seed=0)


def test_judged_items_of_a_real_run(engine_run):
    items = judged_items(load_run(engine_run))
    samples = [json.loads(x) for x in (engine_run / "samples.jsonl").read_text(encoding="utf-8").rstrip("\n").split("\n")]
    assert len(items) == len(samples) == 120
    assert {it.judge for it in items} == {"keywords"} and {it.key for it in items} == {"refusal"}
    by_id = {(s["task"], s["id"]): s for s in samples}
    for it in items:
        s = by_id[(it.task, it.id)]
        assert it.verdict is s["verdicts"]["refusal"] and it.response == s["response"]
    # the keyword detector reads the fake server's refusals right
    assert all(it.verdict == truth(it.response) for it in items)


def test_write_audit_files(run_dir, tmp_path):
    out = tmp_path / "audit"
    a = write_audit(run_dir, out, n=30, seed=5)
    assert (a.sampled, a.judged) == (30, 120)
    rows = [json.loads(x) for x in (out / "labels.jsonl").read_text(encoding="utf-8").rstrip("\n").split("\n")]
    assert len(rows) == 30
    assert all(list(r) == ["task", "id", "judge", "verdict", "label", "response_sha256"] for r in rows)
    assert all(r["label"] is None and r["judge"] == "keywords" for r in rows)
    by_task = Counter(r["task"] for r in rows)  # 40 items each: a third of the sample each, within rounding
    assert set(by_task) == {"safety/jailbreak", "safety/misuse", "safety/exaggerated_safety"}
    assert all(abs(c - 10) <= 1 for c in by_task.values())
    refused = sum(1 for r in rows if r["verdict"])  # 44 of 120 refusals in the run
    assert abs(refused - 30 * 44 / 120) <= 1.5
    # the same command gives the same sample
    again = write_audit(run_dir, tmp_path / "again", n=30, seed=5)
    assert again.labels.read_bytes() == (out / "labels.jsonl").read_bytes()
    assert again.sheet.read_bytes() == (out / "sheet.html").read_bytes()
    # an earlier audit is not overwritten (its labels may be filled) unless asked
    before = (out / "labels.jsonl").read_bytes()
    with pytest.raises(TrustbenchError, match="already exists"):
        write_audit(run_dir, out, n=10, seed=1)
    assert (out / "labels.jsonl").read_bytes() == before
    write_audit(run_dir, out, n=10, seed=1, force=True)
    assert len((out / "labels.jsonl").read_text().splitlines()) == 10


def test_sheet_is_self_contained_and_escapes_model_text(run_dir, tmp_path):
    a = write_audit(run_dir, tmp_path / "audit", n=500, seed=0)  # every item, payloads included
    html = a.sheet.read_text(encoding="utf-8")
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    assert "default-src 'none'" in csp and "script-src 'sha256-" in csp and "unsafe-inline" not in csp.split("script-src")[1]
    assert not re.search(r"(src|href)=\"(https?:)?//", html)  # nothing fetched
    # the only <script> elements are the data block and the page's own script
    assert len(re.findall(r"<script", html)) == 2
    for raw in (XSS_SCRIPT, XSS_IMG, TRICKY_PROMPT, "<b>bold</b>"):
        assert raw not in html
    assert "\\u003cscript\\u003ewindow.__pwned=1\\u003c/script\\u003e" in html


def test_audit_errors(tmp_path, run_dir):
    with pytest.raises(TrustbenchError, match="run directory not found"):
        write_audit(tmp_path / "nope", tmp_path / "a", n=5)
    with pytest.raises(TrustbenchError, match="--n"):
        write_audit(run_dir, tmp_path / "a", n=0)
    lines = (run_dir / "samples.jsonl").read_text(encoding="utf-8").rstrip("\n").split("\n")
    for i, line in enumerate(lines):  # a run whose judge never decided: nothing to audit
        s = json.loads(line)
        s["verdicts"]["refusal"] = None
        lines[i] = json.dumps(s)
    (run_dir / "samples.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(TrustbenchError, match="nothing to audit"):
        write_audit(run_dir, tmp_path / "a", n=5)
    assert not (tmp_path / "a").exists()
