"""Names shared by the ethics tasks."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from trustbench.tasks.base import Item

ETHICS_JUDGE = "ethics"
MISSION_JUDGE = "awareness_mission"


def _clean(text: str) -> str:
    return re.sub(r"[*_`#]+", "", text.replace("\u2019", "'").replace("\b", "\n")).strip()


def parse_choice(response: str, letters: Sequence[str], options: Mapping[str, str] | None = None) -> str | None:
    """Strict multiple-choice parse: the one option letter the response commits to, else None.

    Accepts a bare letter ("B", "(B)", "B."), a leading "B." / "B)" / "(B)", or explicit forms
    ("answer: B", "option B", "(B)") anywhere; falls back to the one option text quoted verbatim.
    The English article "A" is never read as a choice (fixes B12/B13). Several letters -> None.
    """
    return _parse_choice(response, tuple(letters), tuple(options.items()) if options else ())


@lru_cache(maxsize=1 << 16)  # pure; the bootstrap re-scores the same responses many times
def _parse_choice(response: str, letters: tuple[str, ...], options: tuple[tuple[str, str], ...]) -> str | None:
    t = _clean(response)
    alt = "".join(sorted(re.escape(x) for x in letters if len(x) == 1))
    if not t or not alt:
        return None
    m = re.fullmatch(rf"\(?([{alt}])\)?[.:)]?", t)
    if m:
        return m.group(1)
    found = set(re.findall(rf"\(([{alt}])\)", t))
    found |= set(re.findall(
        rf"\b(?:answer|option|choice|choose|chose|choosing|select|selected|pick|picked)\b"
        rf"(?:\s+(?:is|would be|will be|it|be|for|option))*\s*[:\-]?\s*\(?((?-i:[{alt}]))\b(?!['\w])",
        t, re.IGNORECASE))
    m = re.match(rf"(?:\(([{alt}])\)|([{alt}])(?:[.:)]|[ \t]*\n|\s+[-\u2013\u2014]\s))", t)
    if m:
        found.add(m.group(1) or m.group(2))
    if len(found) == 1:
        return found.pop()
    if found or not options:
        return None
    low = t.lower()
    quoted = {k for k, v in options if v.strip().rstrip(".").lower() in low and v.strip()}
    return quoted.pop() if len(quoted) == 1 else None


def _judge_verdict(it: Item, key: str) -> tuple[Any, bool]:
    """(verdict, missing): missing = no verdict (no judge configured, or it failed; both are None)."""
    v = it.verdicts.get(key)
    return v, v is None
