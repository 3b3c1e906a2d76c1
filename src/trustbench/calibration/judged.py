"""A run's judged items: every yes/no verdict (refusal today) a named judge gave on a response."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from trustbench.errors import TrustbenchError
from trustbench.report.rundir import RunData


@dataclass(frozen=True)
class JudgedItem:
    """One judge verdict on one response; (task, id, judge) identifies it in a label file."""

    task: str
    id: str
    key: str  # the verdict key in samples.jsonl ("refusal")
    judge: str  # the judge's name ("classifier", "keywords", "llm:openai:gpt-4o", ...)
    verdict: bool
    messages: tuple[tuple[str, str], ...]
    response: str
    response_sha256: str

    @property
    def ident(self) -> tuple[str, str, str]:
        return (self.task, self.id, self.judge)


def response_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def judged_items(run: RunData) -> list[JudgedItem]:
    """The run's yes/no verdicts with a response and a named judge, in samples.jsonl order.

    Undecided verdicts (None), failed generations and verdicts of other types (toxicity scores,
    embeddings, LLM-judge replies) are not judged items: they have no confusion matrix here.
    """
    if run.samples_path is None:
        raise TrustbenchError(f"{run.path / 'samples.jsonl'}: not found (the run has no samples to audit)")
    out: list[JudgedItem] = []
    seen: dict[tuple[str, str, str], str] = {}
    for s in run.iter_samples():
        response = s.get("response")
        if not isinstance(response, str):
            continue
        verdicts: dict[str, Any] = s.get("verdicts") or {}
        names: dict[str, Any] = s.get("judges") or {}
        for key, v in verdicts.items():
            judge = names.get(key)
            if not isinstance(v, bool) or not isinstance(judge, str) or not judge:
                continue
            item = JudgedItem(
                task=str(s["task"]),
                id=str(s["id"]),
                key=str(key),
                judge=judge,
                verdict=v,
                messages=tuple(
                    (str(m.get("role", "")), str(m.get("content", "")))
                    for m in (s.get("messages") or []) if isinstance(m, dict)
                ),
                response=response,
                response_sha256=response_sha256(response),
            )
            if item.ident in seen:
                raise TrustbenchError(
                    f"{run.samples_path}: {item.task} {item.id!r} has two yes/no verdicts by judge {judge!r} "
                    f"({seen[item.ident]!r}, {key!r}), or appears twice; a label could not tell them apart"
                )
            seen[item.ident] = key
            out.append(item)
    return out
