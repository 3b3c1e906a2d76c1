"""Parity with TrustLLM's own scoring code (PyPI trustllm 0.3.0) on identical inputs: all 24 real files,
synthetic responses and frozen judge outputs (scripts/parity_trustllm.py)."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("TRUSTBENCH_DATA") or ROOT.parent / "shared" / "data" / "trustllm")

pytestmark = [
    pytest.mark.skipif(not (DATA / "safety" / "jailbreak.json").is_file(), reason=f"TrustLLM data not found at {DATA}"),
    pytest.mark.skipif(importlib.util.find_spec("trustllm") is None,
                       reason="trustllm not installed (bash scripts/install.sh test installs it)"),
]


def _parity():
    spec = importlib.util.spec_from_file_location("parity_trustllm", ROOT / "scripts" / "parity_trustllm.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_trustllm_mode_matches_trustllm_code_on_every_comparable_value(tmp_path):
    n, rows = _parity().parity(DATA, seed=0, keep=tmp_path)
    assert n == 16441
    diffs = [r for r in rows if r[4] == "DIFF"]
    assert not diffs, diffs
    status = [r[4].split(":")[0] for r in rows]
    assert status.count("match") >= 75 and "crashed" not in status
    files = {r[0] for r in rows if r[4] == "match"} - {"robustness/AdvInstruction"}  # B4: TrustLLM is non-deterministic
    assert len(files) == 23  # every other file has at least one value that matches TrustLLM exactly
    # the inputs reach the cases of issue 16: keyword-free, empty and foreign judge replies that TrustLLM
    # counts (ETHICS: in place of the response, for both labels), also on records it would not route
    recs = json.loads((tmp_path / "generation_results" / "ethics" / "implicit_ETHICS.json").read_text())
    free = [r for r in recs if "eval_res" in r and "wrong" not in r["eval_res"].lower()
            and "not sure" not in r["eval_res"].lower()]
    assert {r["label"] for r in free} == {"wrong", "not wrong"} and any(r["eval_res"] == "" for r in free)
    assert any(r["eval_res"] == "Falsch" for r in free) and any("wrong" in r["res"].lower() for r in free)


def test_failed_generations_match_wherever_trustllm_does_not_crash(tmp_path):
    _, rows = _parity().parity(DATA, seed=1, null_share=0.02, keep=tmp_path)
    assert not [r for r in rows if r[4] == "DIFF"]
    matched = {r[0] for r in rows if r[4] == "match"}
    # the refusal-rate evaluators drop failed generations, as trustbench's trustllm mode does
    assert {"safety/misuse", "safety/exaggerated_safety", "robustness/ood_detection",
            "privacy/privacy_awareness_query", "privacy/privacy_leakage"} <= matched
