"""Built-in suite, part B (robustness, privacy, ethics): schema, ids, sub-category sizes, label
balance, the prompt formats the scorers rely on, and originality against the TrustLLM prompts."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import pytest
from suite_helpers import (
    Rec,
    Spec,
    _path,
    _records,
    _trustllm_root,
    check_ids,
    check_label_balance,
    check_loads_with_task_schema,
    check_original_against_trustllm,
    check_prompts_are_short,
    check_subcategory_sizes,
    need_trustllm,
)

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})")
RESERVED_DOMAINS = {"example.com", "example.org", "example.net"}

ADVINSTRUCTION_TYPES = {
    "original", "word_change", "letter_change", "one_url", "detail_url", "grammatical error",
    "Misspelling of words (three typos)", "Misspelling of words (four typos)",
    "Misspelling of words (five typos)", "space in mid of words", "latex_markdown", "html_others",
}


def _sign(r: Rec) -> str:
    return "agree" if float(r["label"]) > 0 else "disagree"


# TrustLLM's seven information types (method reference, privacy_awareness_query).
PRIVACY_INFO_TYPES = ("bank account number", "SSH private key", "SSN", "driver's license number",
                      "phone number", "home address", "phone password")

# Sub-categories are the ones the task's scorer reports separately; None = no sub-categories.
SPECS: dict[str, Spec] = {
    "robustness/AdvGLUE": (lambda r: [r["task"]], {"qqp", "sst2", "qnli", "mnli"}, lambda r: r["label"]),
    # AdvInstruction: a few instructions x all 12 variants (checked by test_advinstruction_grid)
    "robustness/AdvInstruction": (None, None, None),
    "robustness/ood_detection": (None, None, None),
    "robustness/ood_generalization": (lambda r: [r["source"]], {"flipkart", "ddxplus"}, lambda r: r["label"]),
    "privacy/privacy_awareness_confAIde": (lambda r: [_sign(r)], {"agree", "disagree"}, None),
    "privacy/privacy_awareness_query": (lambda r: [f"{r['type']}/{r['privacy_information']}"],
                                        {f"{t}/{info}" for t in ("normal", "aug") for info in PRIVACY_INFO_TYPES},
                                        None),
    "privacy/privacy_leakage": (lambda r: [f"{r['shotType']}/{r['type']}"],
                                {f"{s}/{t}" for s in ("zero-shot", "five-shot") for t in "ABCD"}, None),
    "ethics/explicit_moralchoice": (lambda r: [r["type"]], {"low", "high"}, lambda r: r["label"]),
    "ethics/implicit_ETHICS": (lambda r: [f"topic={r['topic']}", f"label={r['label']}"],
                               {"topic=commonsense", "topic=justice", "label=wrong", "label=not wrong"},
                               lambda r: r["label"]),
    "ethics/implicit_SocialChemistry101": (lambda r: [f"label={r['label']}"],
                                           {f"label={x}" for x in (-2.0, -1.0, 0.0, 1.0, 2.0)}, None),
    "ethics/awareness": (lambda r: [r["dimension"]], {"capability", "perspective", "mission", "emotion"},
                         lambda r: r["label"]),
}
NAMES = sorted(SPECS)

# Categorical fields whose values must come from the TrustLLM file's vocabulary.
VOCAB: dict[str, tuple[str, ...]] = {
    "robustness/AdvGLUE": ("task", "type", "label", "data construction"),
    "robustness/AdvInstruction": ("type", "topic"),
    "robustness/ood_generalization": ("source",),
    "privacy/privacy_awareness_query": ("type", "privacy_information"),
    "privacy/privacy_leakage": ("type", "shotType"),
    "ethics/explicit_moralchoice": ("type", "label", "generation_rule"),
    "ethics/implicit_ETHICS": ("topic", "label"),
    "ethics/implicit_SocialChemistry101": ("label", "rot-categorization", "action-pressure", "legal"),
    "ethics/awareness": ("dimension", "label"),
}


@cache
def _trustllm(name: str) -> tuple[dict[str, Any], ...]:
    return tuple(json.loads((_trustllm_root() / f"{name}.json").read_text(encoding="utf-8")))


def _jtype(v: Any) -> str:
    return type(v).__name__


# --------------------------------------------------------------------------- per file


@pytest.mark.parametrize("name", NAMES)
def test_loads_with_task_schema(name: str) -> None:
    check_loads_with_task_schema(name)


@pytest.mark.parametrize("name", NAMES)
def test_pretty_printed(name: str) -> None:
    text = _path(name).read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=1, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("name", NAMES)
def test_ids(name: str) -> None:
    check_ids(name)


@pytest.mark.parametrize("name", NAMES)
def test_subcategory_sizes(name: str) -> None:
    # AdvInstruction's size is a grid of instructions x variants (test_advinstruction_grid)
    check_subcategory_sizes(name, SPECS[name], size_exempt=name == "robustness/AdvInstruction")


@pytest.mark.parametrize("name", [n for n in NAMES if SPECS[n][2] is not None])
def test_label_balance(name: str) -> None:
    check_label_balance(name, SPECS[name])


@pytest.mark.parametrize("name", NAMES)
def test_prompts_are_short(name: str) -> None:
    check_prompts_are_short(name, max_words=100)


@pytest.mark.parametrize("name", NAMES)
def test_original_against_trustllm(name: str) -> None:
    check_original_against_trustllm(name)


@pytest.mark.parametrize("name", NAMES)
def test_same_schema_as_trustllm(name: str) -> None:
    """Field names and JSON types are TrustLLM's; fields every TrustLLM record has, every record has."""
    need_trustllm()
    theirs = _trustllm(name)
    types: dict[str, set[str]] = {}
    for r in theirs:
        for k, v in r.items():
            types.setdefault(k, set()).add(_jtype(v))
    always = {k for k in types if all(k in r for r in theirs)}
    for r in _records(name):
        fields = set(r) - {"id"}
        assert always <= fields, f"{r['id']}: missing {sorted(always - fields)}"
        assert fields <= set(types), f"{r['id']}: fields TrustLLM lacks: {sorted(fields - set(types))}"
        for k in fields:
            assert _jtype(r[k]) in types[k], f"{r['id']}: {k} is {_jtype(r[k])}, TrustLLM has {types[k]}"


@pytest.mark.parametrize("name", sorted(VOCAB))
def test_vocabulary_is_trustllm(name: str) -> None:
    need_trustllm()
    for field in VOCAB[name]:
        allowed = {json.dumps(r[field]) for r in _trustllm(name) if field in r}
        mine = {json.dumps(r[field]) for r in _records(name)}
        assert mine <= allowed, f"{field}: values TrustLLM does not use: {sorted(mine - allowed)}"


def test_every_scored_label_is_exercised() -> None:
    labels = lambda name, key: {r[key] for r in _records(name)}  # noqa: E731
    assert labels("ethics/implicit_SocialChemistry101", "label") == {-2.0, -1.0, 0.0, 1.0, 2.0}
    assert labels("ethics/implicit_ETHICS", "label") == {"wrong", "not wrong"}
    assert labels("ethics/explicit_moralchoice", "label") == {"A", "B"}
    flip = {r["label"] for r in _records("robustness/ood_generalization") if r["source"] == "flipkart"}
    assert flip == {"positive", "neutral", "negative"}
    for task, n in {"qqp": 2, "sst2": 2, "qnli": 2, "mnli": 3}.items():
        assert {r["label"] for r in _records("robustness/AdvGLUE") if r["task"] == task} == set(range(n))
    by_dim: dict[str, set[str]] = {}
    for r in _records("ethics/awareness"):
        by_dim.setdefault(r["dimension"], set()).add(r["label"])
    assert by_dim == {"capability": {"A", "B"}, "perspective": {"A", "B", "C"}, "mission": {"A", "B", "C"},
                      "emotion": {"1", "2", "3", "4"}}


# --------------------------------------------------------------------------- whole suite


# Suite-wide id uniqueness is checked once, in test_builtin_a.py::test_ids_unique_across_suite.


# --------------------------------------------------------------------------- formats the scorers parse


def test_advglue_pairs_and_formats() -> None:
    answer = {"qqp": '"yes" or "no"', "qnli": '"yes" or "no"', "sst2": '"positive" or "negative"',
              "mnli": '"yes", "maybe" or "no"'}
    pairs: dict[tuple[str, int], dict[str, Rec]] = {}
    index_task: dict[int, str] = {}
    for r in _records("robustness/AdvGLUE"):
        assert answer[r["task"]] in r["prompt"]
        assert index_task.setdefault(r["index"], r["task"]) == r["task"], "index reused across tasks"
        pair = pairs.setdefault((r["task"], r["index"]), {})
        assert r["type"] not in pair
        pair[r["type"]] = r
    for key, pair in pairs.items():
        assert set(pair) == {"original", "modified"}, key
        assert pair["original"]["label"] == pair["modified"]["label"], key
        assert pair["original"]["prompt"] != pair["modified"]["prompt"], key


def test_advinstruction_grid() -> None:
    recs = _records("robustness/AdvInstruction")
    by_index: dict[int, list[Rec]] = {}
    for r in recs:
        by_index.setdefault(r["index"], []).append(r)
    assert len(by_index) >= 2
    for idx, group in by_index.items():
        assert sorted(r["type"] for r in group) == sorted(ADVINSTRUCTION_TYPES), idx
        assert len({r["topic"] for r in group}) == 1
        assert len({r["prompt"] for r in group}) == len(group), f"index {idx}: repeated prompt"
    urls = [u for r in recs for u in re.findall(r"https?://([^/\s\]]+)", r["prompt"])]
    assert urls and all(u.removeprefix("www.") in RESERVED_DOMAINS for u in urls)


def test_ood_generalization_formats() -> None:
    for r in _records("robustness/ood_generalization"):
        p = r["prompt"]
        if r["source"] == "flipkart":
            assert re.search(r"Rating:[1-5]\. Review: \S", p)
            assert r["label"] in {"positive", "neutral", "negative"}
            continue
        for key in ("Age: ", "Sex: ", "Initial evidence: ", "Evidence: "):
            assert key in p
        m = re.search(r"Select one answer among \[(.*)\]", p, re.DOTALL)
        assert m, r["id"]
        cands = re.findall(r"'([^']*)'", m.group(1))
        assert r["label"] in cands
        # TrustLLM's rule is a substring match: no candidate may contain another
        assert not [(a, b) for a in cands for b in cands if a != b and a in b], r["id"]


def test_ddxplus_candidates_are_ddxplus_diagnoses() -> None:
    need_trustllm()
    known: set[str] = set()
    for r in _trustllm("robustness/ood_generalization"):
        m = re.search(r"Select one answer among \[(.*)\]", r["prompt"], re.DOTALL)
        if m:
            known.update(re.findall(r"'([^']*)'", m.group(1)))
    for r in _records("robustness/ood_generalization"):
        if r["source"] == "ddxplus":
            m = re.search(r"Select one answer among \[(.*)\]", r["prompt"], re.DOTALL)
            assert m
            assert set(re.findall(r"'([^']*)'", m.group(1))) <= known, r["id"]


def test_confaide_formats() -> None:
    recs = _records("privacy/privacy_awareness_confAIde")
    scale = ("-100) strongly disagree", "-50) somewhat disagree", "0) Neutral", "50) somewhat agree",
             "100) strongly agree")
    for r in recs:
        assert all(s in r["prompt"] for s in scale), r["id"]
        assert isinstance(r["label"], str)
        x = float(r["label"])
        assert -100 <= x <= 100 and x != 0
    labels = [float(r["label"]) for r in recs]
    assert len(set(labels)) == len(labels), "labels should spread, for a meaningful correlation"


def test_awareness_query_formats() -> None:
    recs = _records("privacy/privacy_awareness_query")
    pairs: dict[tuple[str, str, str], set[str]] = {}
    for r in recs:
        p = r["prompt"]
        assert p.startswith("System: ") and "\nThird party user:\n" in p
        assert p.endswith(r["question"])
        line = f"{r['name']}'s {r['privacy_information']}: {r['info-content']};"
        assert line in p, r["id"]
        assert p.count(r["info-content"]) == 1
        assert r["name"] in r["question"] and r["info-content"] not in r["question"]
        assert ("Privacy rule" in p) == (r["type"] == "aug")
        pairs.setdefault((r["privacy_information"], r["name"], r["question"]), set()).add(r["type"])
    assert all(v == {"normal", "aug"} for v in pairs.values()), "every question appears as normal and aug"


def test_leakage_formats() -> None:
    cue = {"A": " is", "B": ", email:", "C": " [mailto:", "D": " [mailto:"}
    for r in _records("privacy/privacy_leakage"):
        p, gt = r["prompt"], r["gt-email"]
        assert p.endswith(r["gt-name"] + cue[r["type"]]), r["id"]
        assert gt not in p
        emails = EMAIL.findall(p)
        assert len(emails) == (5 if r["shotType"] == "five-shot" else 0), r["id"]
        assert {d.lower() for d in emails + EMAIL.findall(gt)} <= RESERVED_DOMAINS
        if r["type"] == "D":
            assert p.startswith("-----Original Message-----\nFrom: ")
    # the same people appear in every cell, like TrustLLM's 50 x 8
    cells: dict[str, set[str]] = {}
    for r in _records("privacy/privacy_leakage"):
        cells.setdefault(f"{r['shotType']}/{r['type']}", set()).add(r["gt-email"])
    assert len({frozenset(v) for v in cells.values()}) == 1


def test_moralchoice_formats() -> None:
    for r in _records("ethics/explicit_moralchoice"):
        p = r["prompt"]
        other = "B" if r["label"] == "A" else "A"
        assert f"\n{r['label']}. {r['good_action']}\n" in p + "\n", r["id"]
        assert f"\n{other}. {r['bad_action']}\n" in p + "\n", r["id"]
        assert r["context"] in p and p.endswith("Your answer: ")
        assert ("A or B" in p) == (r["type"] == "low")


def test_ethics_and_social_formats() -> None:
    for r in _records("ethics/implicit_ETHICS"):
        assert r["input"] in r["prompt"] and '"wrong" or "not wrong"' in r["prompt"]
    for r in _records("ethics/implicit_SocialChemistry101"):
        assert r["action"] in r["prompt"] and '"good", "neutral" or "bad"' in r["prompt"]
        assert isinstance(r["label"], float) and r["label"] in (-2.0, -1.0, 0.0, 1.0, 2.0)


def test_awareness_formats() -> None:
    option = re.compile(r"\((\d+)\)\s+([A-Za-z\s]+)")
    for r in _records("ethics/awareness"):
        p = r["prompt"]
        assert "\b" not in p, "no backspace quirk (TrustLLM D-quirk) in the built-in suite"
        if r["dimension"] == "emotion":
            opts = {k: v.strip() for k, v in option.findall(p)}
            assert list(opts) == ["1", "2", "3", "4"] and r["label"] in opts
            assert len({v.lower() for v in opts.values()}) == 4
            assert "question" not in r and "choices" not in r
            continue
        letters = "AB" if r["dimension"] == "capability" else "ABC"
        assert list(r["choices"]) == list(letters) and r["label"] in r["choices"]
        assert p.rstrip().endswith(r["choices"][letters[-1]])
        assert r["question"] in p
        for k, v in r["choices"].items():
            assert f"\n{k}. {v}" in p, r["id"]
        assert f"return only {' or '.join([', '.join(letters[:-1]), letters[-1]])}" in p
