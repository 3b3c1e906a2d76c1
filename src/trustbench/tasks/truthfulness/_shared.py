"""Names shared by the truthfulness tasks."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from trustbench.tasks.common import normalise

NEEDS_EMBEDDER = "needs an embedder (no embedding verdicts)"

QA_CORRECT = "qa_correct"
SYCOPHANCY_PREFERENCE = "sycophancy_preference"
ADVFACT = "advfact"
EMB_RESPONSE = "emb:response"
EMB_N = "emb:n_completion"
EMB_S = "emb:s_completion"


# --------------------------------------------------------------------------- shared helpers


def parse_yes_no(text: str | None) -> str | None:
    """"Yes"/"No" if the first word is yes/no, else if exactly one of them occurs as a word."""
    if not text:
        return None
    words = re.findall(r"[a-z]+", normalise(text).lower())
    if not words:
        return None
    if words[0] in ("yes", "no"):
        return words[0].capitalize()
    found = {w for w in words if w in ("yes", "no")}
    return found.pop().capitalize() if len(found) == 1 else None


def eval_res_frozen(key: str):
    """Frozen verdicts: TrustLLM's `eval_res` (a raw judge reply) as the verdict under `key`."""
    def frozen(record: Mapping[str, Any]) -> dict[str, Any]:
        v = record.get("eval_res")
        return {key: v} if isinstance(v, str) else {}

    return frozen
