"""Helpers shared by the built-in suite tests (parts A and B)."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from trustbench.data.loader import builtin_root, load_task_data
from trustbench.errors import TrustbenchError
from trustbench.tasks.registry import get_task

NGRAM = 12  # no run of this many words may be shared with a TrustLLM prompt


def _path(name: str) -> Path:
    return builtin_root() / f"{name}.json"


@cache
def _records(name: str) -> tuple[dict[str, Any], ...]:
    return tuple(json.loads(_path(name).read_text(encoding="utf-8")))


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _trustllm_root() -> Path:
    env = os.environ.get("TRUSTBENCH_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2].parent / "shared" / "data" / "trustllm"


@cache
def _trustllm_index() -> tuple[frozenset[str], frozenset[str]]:
    """(normalised TrustLLM prompts, every 12-word run in them)."""
    whole: set[str] = set()
    runs: set[str] = set()
    for path in sorted(_trustllm_root().glob("*/*.json")):
        for rec in json.loads(path.read_text(encoding="utf-8")):
            w = _words(str(rec.get("prompt", "")))
            whole.add(" ".join(w))
            runs.update(" ".join(w[i:i + NGRAM]) for i in range(len(w) - NGRAM + 1))
    return frozenset(whole), frozenset(runs)


# --------------------------------------------------------------------------- checks shared by parts A and B

Rec = Mapping[str, Any]
# task -> (sub-category keys of a record, the expected sub-categories, gold label or None)
Spec = tuple[Callable[[Rec], Iterable[str]] | None, set[str] | None, Callable[[Rec], Any] | None]
PER_SUB = 12  # items per scored sub-category


def need_trustllm() -> Path:
    root = _trustllm_root()
    if not root.is_dir():
        pytest.skip(f"TrustLLM data not found at {root}")
    return root


def check_loads_with_task_schema(name: str) -> None:
    try:
        task = get_task(name)
    except TrustbenchError as e:
        pytest.skip(f"task {name} is not registered yet: {e}")
    data = load_task_data(task, builtin_root())
    assert len(data.records) == len(_records(name))
    if task.group is not None:
        # every record maps to a sub-category the registered task knows how to name
        assert all(isinstance(task.group(r), str) for r in data.records)


def check_ids(name: str) -> None:
    ids = [r.get("id") for r in _records(name)]
    assert all(isinstance(i, str) and i.startswith("bt-") for i in ids), "every record needs a 'bt-' id"
    dup = [i for i, n in Counter(ids).items() if n > 1]
    assert not dup, f"duplicate ids: {dup}"


def check_subcategory_sizes(name: str, spec: Spec, *, size_exempt: bool = False) -> None:
    """Every expected sub-category, each with at least PER_SUB items; a task with no sub-categories
    has PER_SUB to 2 * PER_SUB items unless `size_exempt`."""
    subs, expected, _ = spec
    recs = _records(name)
    if subs is None:
        if not size_exempt:
            assert PER_SUB <= len(recs) <= 2 * PER_SUB
        return
    counts = Counter(k for r in recs for k in subs(r))
    assert set(counts) == expected
    small = {k: n for k, n in counts.items() if n < PER_SUB}
    assert not small, f"sub-categories under {PER_SUB} items: {small}"


def check_label_balance(name: str, spec: Spec) -> None:
    """Gold labels are balanced inside every sub-category (records whose label is None are left out)."""
    subs, _, label = spec
    assert subs is not None and label is not None
    by_sub: dict[str, Counter] = {}
    for r in _records(name):
        lab = label(r)
        if lab is None:
            continue
        for k in subs(r):
            by_sub.setdefault(k, Counter())[lab] += 1
    assert by_sub
    for k, c in by_sub.items():
        assert len(set(c.values())) == 1, f"{name} [{k}] labels unbalanced: {dict(c)}"


def check_prompts_are_short(name: str, max_words: int) -> None:
    lengths = sorted(len(r["prompt"].split()) for r in _records(name))
    assert lengths[-1] <= max_words, f"prompt over {max_words} words"
    assert lengths[len(lengths) // 2] <= 80, "median prompt over 80 words"


def check_original_against_trustllm(name: str) -> None:
    need_trustllm()
    whole, runs = _trustllm_index()
    for r in _records(name):
        w = _words(r["prompt"])
        assert " ".join(w) not in whole, f"{r['id']}: prompt equals a TrustLLM prompt"
        shared = [" ".join(w[i:i + NGRAM]) for i in range(len(w) - NGRAM + 1) if " ".join(w[i:i + NGRAM]) in runs]
        assert not shared, f"{r['id']}: shares a {NGRAM}-word run with a TrustLLM prompt: {shared[0]!r}"
