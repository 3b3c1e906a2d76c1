"""The audit sheet in headless Debian Chromium (selenium + /usr/bin/chromedriver): label every
item with the keyboard, export the labels as a real download, and round-trip them through
`judge calibrate`. Model markup in the sheet is shown as text and never runs.
Skipped (with the reason) only when chromium, chromedriver or selenium is missing."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from calhelp import truth
from chromium_helper import MARKS, chromium

from trustbench.calibration.audit import write_audit
from trustbench.calibration.calibrate import calibrate
from trustbench.report.synthetic import TRICKY_PROMPT, XSS_IMG, XSS_SCRIPT

try:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # pragma: no cover
    pass

pytestmark = MARKS


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    downloads = tmp_path_factory.mktemp("downloads")
    with chromium(downloads) as d:
        yield d, downloads


def _open(d, sheet: Path) -> None:
    d.get(sheet.resolve().as_uri())
    WebDriverWait(d, 30).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-audit-ready") == "1")


def _key(d, k: str) -> None:
    d.find_element(By.TAG_NAME, "body").send_keys(k)


def _attr(d, id_: str, name: str) -> str:
    return d.find_element(By.ID, id_).get_attribute(name)


def _current(d) -> int:
    return int(d.find_element(By.TAG_NAME, "body").get_attribute("data-current"))


def test_label_with_keys_export_and_calibrate(browser, run_dir, tmp_path):
    d, downloads = browser
    audit = write_audit(run_dir, tmp_path / "audit", n=40, seed=4)
    rows = [json.loads(x) for x in audit.labels.read_text(encoding="utf-8").rstrip("\n").split("\n")]
    _open(d, audit.sheet)
    assert _attr(d, "tb-status", "data-labelled") == "0" and "0 of 40 labelled" in d.find_element(By.ID, "tb-status").text

    disagree = {0, 7, 19}  # the labeller contradicts the judge here (as a person would where it erred)
    skip = 11
    expected = []
    for i in range(40):
        assert _current(d) == i
        verdict_box = d.find_element(By.ID, "tb-verdict").text
        assert "hidden until you label" in verdict_box and "judge keywords" not in verdict_box
        response = d.find_element(By.ID, "tb-response").get_attribute("textContent")
        assert response and d.find_element(By.ID, "tb-id").text == f"id {rows[i]['id']}"
        label = truth(response) != (i in disagree)
        if i == 3:  # a wrong key, back with k, then the right one: the label is replaced
            _key(d, "2" if label else "1")
            assert _current(d) == 4
            _key(d, "k")
            assert _current(d) == 3 and "you: " in d.find_element(By.ID, "tb-verdict").text
        if i == skip:
            _key(d, "0")
            expected.append(None)
            continue
        _key(d, "1" if label else "2")
        expected.append(label)
        last = d.find_element(By.ID, "tb-last").text
        judge_word = "refusal" if rows[i]["verdict"] else "not a refusal"
        assert f"judge keywords: {judge_word}" in last
        assert last.endswith("disagree" if i in disagree else "agree")
    status = d.find_element(By.ID, "tb-status")
    assert (status.get_attribute("data-labelled"), status.get_attribute("data-skipped")) == ("39", "1")
    assert "all done" in status.text and _attr(d, "tb-progress", "value") == "40"

    d.refresh()  # labels survive a reload (local storage)
    WebDriverWait(d, 30).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-audit-ready") == "1")
    assert _attr(d, "tb-status", "data-labelled") == "39"

    for old in downloads.glob("labels*.jsonl"):
        old.unlink()
    _key(d, "e")
    target = downloads / "labels.jsonl"
    deadline = time.monotonic() + 20
    while not target.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert target.exists(), f"no download in {downloads}: {list(downloads.iterdir())}"
    exported = [json.loads(x) for x in target.read_text(encoding="utf-8").rstrip("\n").split("\n")]
    assert exported == [{**r, "label": lab} for r, lab in zip(rows, expected, strict=True)]
    assert [list(r) for r in exported] == [list(r) for r in rows]  # the same format as labels.jsonl
    assert [e for e in d.get_log("browser") if e["level"] == "SEVERE"] == []

    results0 = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    cal = calibrate(run_dir, target, labelled_by="selenium test (rule-based labels)")
    j = cal.judges["keywords"]
    assert j["n"] == 39 and j["unlabelled"] == 1 and j["fp"] + j["fn"] == len(disagree)
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["judge_calibration"]["judges"]["keywords"]["n"] == 39
    results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    a0 = results0["tasks"]["safety/jailbreak"]["metrics"]["rta"]["extra"]["ci_judge_adjusted"]
    a1 = results["tasks"]["safety/jailbreak"]["metrics"]["rta"]["extra"]["ci_judge_adjusted"]
    assert a1 != a0 and a1["sensitivity"] == pytest.approx(j["sensitivity"]["value"]) and "this run's labels" in a1["method"]


def test_model_markup_is_shown_as_text(browser, run_dir, tmp_path):
    d, _ = browser
    audit = write_audit(run_dir, tmp_path / "all", n=1000, seed=0)
    rows = [json.loads(x) for x in audit.labels.read_text(encoding="utf-8").rstrip("\n").split("\n")]
    samples = {(s["task"], s["id"]): s["response"] for s in
               (json.loads(x) for x in (run_dir / "samples.jsonl").read_text(encoding="utf-8").rstrip("\n").split("\n"))}
    _open(d, audit.sheet)
    for payload in (XSS_SCRIPT, XSS_IMG, TRICKY_PROMPT):
        target = next(i for i, r in enumerate(rows) if payload in samples[(r["task"], r["id"])])
        while _current(d) != target:
            _key(d, Keys.ARROW_RIGHT if _current(d) < target else Keys.ARROW_LEFT)
        assert payload in d.find_element(By.ID, "tb-response").get_attribute("textContent")
        assert d.find_elements(By.CSS_SELECTOR, "#tb-card img, #tb-card script") == []
    assert d.execute_script("return typeof window.__pwned") == "undefined"
    assert [e for e in d.get_log("browser") if e["level"] in ("SEVERE", "WARNING")] == []
