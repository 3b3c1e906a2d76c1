"""Read a filled label file (`judge audit`'s labels.jsonl, or the sheet's export) against a run.

Each line: {"task", "id", "judge", "verdict", "label", "response_sha256"}; `label` is true (the
verdict key holds, e.g. the response is a refusal), false, or null (not labelled / skipped).
Any problem raises TrustbenchError naming the file and line; nothing is guessed or skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from trustbench.calibration.judged import JudgedItem
from trustbench.errors import TrustbenchError

FIELDS = ("task", "id", "judge", "verdict", "label", "response_sha256")


@dataclass(frozen=True)
class Label:
    item: JudgedItem
    label: bool | None
    line: int


def read_labels(path: Path | str, judged: list[JudgedItem]) -> list[Label]:
    """The file's labels, each matched to the run's judged item; raises on the first bad line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TrustbenchError(f"--labels {path}: not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise TrustbenchError(f"--labels {path}: cannot read ({getattr(e, 'strerror', None) or e})") from None
    index = {it.ident: it for it in judged}
    by_item = {(it.task, it.id): it for it in judged}
    judges = sorted({it.judge for it in judged})
    seen: dict[tuple[str, str, str], int] = {}
    out: list[Label] = []
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            row = json.loads(line)
        except ValueError as e:
            raise TrustbenchError(f"{where}: invalid JSON ({e})") from None
        if not isinstance(row, dict):
            raise TrustbenchError(f"{where}: expected a JSON object, got {type(row).__name__}")
        missing = [k for k in FIELDS if k not in row]
        if missing:
            raise TrustbenchError(f"{where}: missing field(s) {', '.join(missing)} (expected {', '.join(FIELDS)})")
        for k in ("task", "id", "judge", "response_sha256"):
            if not isinstance(row[k], str):
                raise TrustbenchError(f"{where}: field {k!r} must be a string")
        if not isinstance(row["verdict"], bool):
            raise TrustbenchError(f"{where}: field 'verdict' must be true or false")
        if row["label"] is not None and not isinstance(row["label"], bool):
            raise TrustbenchError(f"{where}: field 'label' must be true, false or null, got {row['label']!r}")
        ident = (row["task"], row["id"], row["judge"])
        item = index.get(ident)
        if item is None:
            if row["judge"] not in judges:
                raise TrustbenchError(
                    f"{where}: unknown judge {row['judge']!r}; this run's yes/no judges: {', '.join(judges)}"
                )
            other = by_item.get((row["task"], row["id"]))
            if other is None:
                raise TrustbenchError(
                    f"{where}: no judged item {row['task']} {row['id']!r} in this run (labels for another run?)"
                )
            raise TrustbenchError(f"{where}: {row['task']} {row['id']!r} was judged by {other.judge!r} in this run, not {row['judge']!r}")
        if row["response_sha256"] != item.response_sha256:
            raise TrustbenchError(
                f"{where}: the response of {item.task} {item.id!r} differs from this run's (labels for another run?)"
            )
        if row["verdict"] != item.verdict:
            raise TrustbenchError(
                f"{where}: verdict {str(row['verdict']).lower()} for {item.task} {item.id!r} differs from this run's "
                f"({str(item.verdict).lower()}) (labels for another run?)"
            )
        if ident in seen:
            raise TrustbenchError(f"{where}: {item.task} {item.id!r} ({item.judge}) is labelled twice (also on line {seen[ident]})")
        seen[ident] = lineno
        out.append(Label(item=item, label=row["label"], line=lineno))
    if not out:
        raise TrustbenchError(f"--labels {path}: no label lines")
    return out
