"""Helpers shared by the built-in suite tests (parts A and B)."""

from __future__ import annotations

import json
import os
import re
from functools import cache
from pathlib import Path
from typing import Any

from trustbench.data.loader import builtin_root

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
