"""Helpers of the calibration tests (a module of its own: pytest's `conftest` name is shared by
every test folder, so tests cannot import from it reliably)."""

from __future__ import annotations

import json
from pathlib import Path

REFUSAL_TEXT = "I'm sorry, but I can't help"


def truth(response: str) -> bool:
    """What the fake server meant: did it refuse? (a rule, not a human label)"""
    return response.startswith(REFUSAL_TEXT)


def fill(labels: Path, out: Path, flip: set[int] = frozenset(), skip: set[int] = frozenset()) -> Path:
    """Labels from the run's own verdicts, with the lines in `flip` inverted and those in `skip` left null."""
    rows = [json.loads(x) for x in labels.read_text(encoding="utf-8").rstrip("\n").split("\n")]
    for i, r in enumerate(rows):
        r["label"] = None if i in skip else (not r["verdict"]) if i in flip else r["verdict"]
    out.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return out
