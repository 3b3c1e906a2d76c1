"""Built-in suite, part A (truthfulness, safety, fairness): schema, ids, sub-category sizes,
label balance, prompt formats the scorers rely on, and originality against the TrustLLM prompts."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from suite_helpers import (
    Rec,
    Spec,
    _records,
    check_ids,
    check_label_balance,
    check_loads_with_task_schema,
    check_original_against_trustllm,
    check_prompts_are_short,
    check_subcategory_sizes,
)

from trustbench.data.loader import builtin_root


def _mc_letters(r: Rec) -> list[str]:
    return [L for L in "ABCD" if f"{L}. {r['answer']}" in r["prompt"]]


def _halu_label(r: Rec) -> str:
    return _mc_letters(r)[0] if r["source"] == "mc" else r["answer"]


JAILBREAK_ATTACKS = {
    "fixed sentence", "no_punctuation", "programming", "cou", "Refusal sentence prohibition", "cot",
    "scenario", "multitask", "no_long_word", "url_encode", "without_the", "json_format", "leetspeak",
    "bad words",
}

# Sub-categories are the ones the task's scorer reports separately; None = no sub-categories.
SPECS: dict[str, Spec] = {
    "truthfulness/internal": (lambda r: [r["source"]], {"squad", "codah", "hotpot", "adversarial"},
                              lambda r: r["answer"] if r["source"] == "codah" else None),
    "truthfulness/external": (lambda r: [r["source"]], {"climate", "scifact", "covid", "healthver"},
                              lambda r: r["answer"]),
    "truthfulness/hallucination": (lambda r: [r["source"]], {"mc", "halu_qa", "halu_dial", "halu_summ"},
                                   _halu_label),
    "truthfulness/sycophancy": (lambda r: [r["source"]], {"persona", "preference"}, None),
    "truthfulness/golden_advfactuality": (None, None, None),
    "safety/jailbreak": (lambda r: r["label"], JAILBREAK_ATTACKS, lambda r: r["source"]),
    "safety/misuse": (None, None, None),
    "safety/exaggerated_safety": (None, None, None),
    "fairness/stereotype_recognition": (lambda r: [r["label"]], {"stereotype", "anti-stereotype", "unrelated"},
                                        None),
    "fairness/stereotype_agreement": (None, None, None),
    "fairness/stereotype_query_test": (None, None, None),
    "fairness/disparagement": (lambda r: [f"sex={r['sex']}", f"race={r['race']}"],
                               {"sex=female", "sex=male", "race=black", "race=white", "race=asian"}, None),
    "fairness/preference": (lambda r: [r["type"]], {"plain", "force"}, None),
}
NAMES = sorted(SPECS)


# --------------------------------------------------------------------------- per file


@pytest.mark.parametrize("name", NAMES)
def test_loads_with_task_schema(name: str) -> None:
    check_loads_with_task_schema(name)


@pytest.mark.parametrize("name", NAMES)
def test_ids(name: str) -> None:
    check_ids(name)


@pytest.mark.parametrize("name", NAMES)
def test_subcategory_sizes(name: str) -> None:
    check_subcategory_sizes(name, SPECS[name])


@pytest.mark.parametrize("name", [n for n in NAMES if SPECS[n][2] is not None])
def test_label_balance(name: str) -> None:
    check_label_balance(name, SPECS[name])


@pytest.mark.parametrize("name", NAMES)
def test_prompts_are_short(name: str) -> None:
    check_prompts_are_short(name, max_words=150)  # CODAH's two worked examples make part A's prompts longer


@pytest.mark.parametrize("name", NAMES)
def test_original_against_trustllm(name: str) -> None:
    check_original_against_trustllm(name)


# --------------------------------------------------------------------------- whole suite


def test_ids_unique_across_suite() -> None:
    seen: dict[str, str] = {}
    dup = []
    for path in sorted(builtin_root().rglob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, list):
            continue
        for r in data:
            rid = r.get("id") if isinstance(r, dict) else None
            if rid is None:
                continue
            if rid in seen:
                dup.append((rid, seen[rid], path.name))
            seen[rid] = path.name
    assert not dup, f"ids repeated across the suite: {dup[:5]}"


# --------------------------------------------------------------------------- formats the scorers parse


def test_internal_formats() -> None:
    for r in _records("truthfulness/internal"):
        assert "Answer: [your answer]" in r["prompt"]
        if r["source"] == "codah":
            assert isinstance(r["answer"], int) and 0 <= r["answer"] <= 3
            assert all(f"\n{k}: " in r["prompt"] for k in range(4))
        elif r["source"] == "squad":
            assert isinstance(r["answer"], list) and 2 <= len(r["answer"]) <= 5
        elif r["source"] == "adversarial":
            qa = r["question"]["paragraphs"][0]["qas"][0]
            ctx = r["question"]["paragraphs"][0]["context"]
            ans = qa["answers"][0]
            assert ctx[ans["answer_start"]:].startswith(ans["text"]) and ans["text"] == r["answer"]
            assert ctx in r["prompt"] and qa["question"] in r["prompt"]
        else:
            assert isinstance(r["answer"], str) and r["question"] in r["prompt"]


def test_external_formats() -> None:
    for r in _records("truthfulness/external"):
        assert r["answer"] in ("SUPPORT", "REFUTE")
        assert "Answer: [your answer]" in r["prompt"] and "Supports or Refutes" in r["prompt"]


def test_hallucination_formats() -> None:
    for r in _records("truthfulness/hallucination"):
        if r["source"] == "mc":
            assert len(_mc_letters(r)) == 1, f"{r['id']}: gold option must appear exactly once"
        else:
            assert r["answer"] in ("Yes", "No") and r["prompt"].rstrip().endswith("#Your Judgement#:")


def test_sycophancy_structure() -> None:
    recs = _records("truthfulness/sycophancy")
    sources = [r["source"] for r in recs]
    assert sources == sorted(sources, key=lambda s: s != "persona"), "persona records come first"
    for r in recs:
        if r["source"] == "persona":
            assert r["n_completion"] and r["s_completion"] and r["n_completion"] != r["s_completion"]
        else:
            assert r["n_completion"] == r["s_completion"] == ""
    pref = [r for r in recs if r["source"] == "preference"]
    pat = re.compile(r'prefer\s+"(.+?)"\s+(?:to|over)\s+"(.+?)"')
    for k in range(0, len(pref), 2):
        a = pat.search(pref[k]["prompt"]).groups()
        b = pat.search(pref[k + 1]["prompt"]).groups()
        assert a == b[::-1], f"records {k} and {k + 1} must be the two orderings of one pair"


def test_advfact_formats() -> None:
    for r in _records("truthfulness/golden_advfactuality"):
        assert r["prompt"].startswith("As we know, ") and r["modified knowledge"] in r["prompt"]
        assert " So " in r["prompt"] and r["query"] in r["prompt"] and r["knowledge"]


def test_jailbreak_formats() -> None:
    for r in _records("safety/jailbreak"):
        assert isinstance(r["label"], list) and len(r["label"]) == 1
        assert r["source"] in ("ITC", "QBB")


def test_misuse_vocabulary() -> None:
    for r in _records("safety/misuse"):
        if r["source"] == "misuse_add":
            assert isinstance(r["label"], list) and len(r["label"]) == 1
        elif r["source"] == "do_not_answer":
            assert set(r["label"]) == {"first_class", "second_class", "third_class"}
        else:
            assert r["source"] == "Do-anything-now" and isinstance(r["type"], str)


def test_exaggerated_types() -> None:
    types = Counter(r["type"] for r in _records("safety/exaggerated_safety"))
    assert len(types) == 10 and len(set(types.values())) == 1


def test_stereotype_recognition_formats() -> None:
    for r in _records("fairness/stereotype_recognition"):
        p = r["prompt"]
        assert f"{r['context']} {r['sentence']}" in p
        for phrase in ("it's a stereotype", "it's an anti-stereotype", "it's unrelated and meaningless"):
            assert phrase in p
    # each context is shown with one sentence of each label
    by_ctx = Counter((r["context"], r["label"]) for r in _records("fairness/stereotype_recognition"))
    assert set(by_ctx.values()) == {1}


def test_disparagement_formats() -> None:
    recs = _records("fairness/disparagement")
    for r in recs:
        for opt in ("A. less than $50,000", "B. $50,000 - $70,000", "C. more than $70,000"):
            assert opt in r["prompt"]
    cells = Counter((r["sex"], r["race"]) for r in recs)
    assert len(cells) == 6 and len(set(cells.values())) == 1
    # every profile is asked for every sex x race cell (matched design)
    profiles = Counter((r["age"], r["education"], r["work_hours"], r["work_type"]) for r in recs)
    assert set(profiles.values()) == {6}


def test_preference_formats() -> None:
    recs = _records("fairness/preference")
    plain = [(r["option_a"], r["option_b"], r["question"]) for r in recs if r["type"] == "plain"]
    force = [(r["option_a"], r["option_b"], r["question"]) for r in recs if r["type"] == "force"]
    assert plain == force, "plain and force ask the same pairs"
    for r in recs:
        assert r["prompt"].startswith(r["question"])
        assert f"A. {r['option_a']}" in r["question"] and f"B. {r['option_b']}" in r["question"]
