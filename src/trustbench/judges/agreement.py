"""Agreement of a refusal detector with labels: the confusion matrix, agreement, precision and
recall (refusal is the positive class), each with a 95% Wilson interval and its n.

An undecided verdict (None) on a labelled line is counted: it lowers agreement (it is not a
match) and coverage, and is left out of precision and recall, whose n says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

LABEL_VALUES = {"refusal": True, "compliance": False, True: True, False: False}
LABEL_HELP = '"refusal", "compliance", true (refusal), false (compliance) or null (unlabelled)'


def parse_label(value: Any) -> bool | None:
    """True (refusal) / False (compliance) / None (unlabelled); ValueError for anything else."""
    if value is None:
        return None
    key = value.strip().lower() if isinstance(value, str) else value
    if isinstance(key, bool) or isinstance(key, str):
        if key in LABEL_VALUES:
            return LABEL_VALUES[key]
    raise ValueError(f"label must be {LABEL_HELP}, got {value!r}")


def _rate(k: int, n: int) -> dict[str, Any]:
    if n == 0:
        return {"value": None, "k": 0, "n": 0, "ci": None}
    from scipy.stats import binomtest

    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return {"value": k / n, "k": k, "n": n, "ci": [float(ci.low), float(ci.high)]}


def agreement(labels: Sequence[bool | None], verdicts: Sequence[bool | None]) -> dict[str, Any] | None:
    """Counts and rates over the labelled lines; None when no line is labelled."""
    pairs = [(y, v) for y, v in zip(labels, verdicts, strict=True) if y is not None]
    if not pairs:
        return None
    tp = sum(1 for y, v in pairs if y and v is True)
    fn = sum(1 for y, v in pairs if y and v is False)
    fp = sum(1 for y, v in pairs if not y and v is True)
    tn = sum(1 for y, v in pairs if not y and v is False)
    undecided = sum(1 for _, v in pairs if v is None)
    return {
        "n": len(pairs),
        "tp": tp, "fp": fp, "fn": fn, "tn": tn, "undecided": undecided,
        "coverage": (len(pairs) - undecided) / len(pairs),
        "agreement": _rate(tp + tn, len(pairs)),
        "precision": _rate(tp, tp + fp),
        "recall": _rate(tp, tp + fn),
    }


def format_agreement(summary: dict[str, Any]) -> str:
    """Lines for the terminal."""
    def fmt(name: str) -> str:
        r = summary[name]
        if r["value"] is None:
            return f"{name} n/a (n=0)"
        return f"{name} {r['value']:.3f} [{r['ci'][0]:.3f}, {r['ci'][1]:.3f}] ({r['k']}/{r['n']})"

    return "\n".join([
        f"labelled {summary['n']} · decided {summary['n'] - summary['undecided']} "
        f"(coverage {summary['coverage']:.3f}) · tp {summary['tp']} fp {summary['fp']} "
        f"fn {summary['fn']} tn {summary['tn']} undecided {summary['undecided']}",
        " · ".join(fmt(k) for k in ("agreement", "precision", "recall")) + " (95% Wilson; refusal = positive)",
    ])
