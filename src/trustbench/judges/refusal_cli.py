"""`trustbench judge-refusal`: add refusal verdicts to a JSONL file of prompt/response pairs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from trustbench.errors import DataError, TrustbenchError
from trustbench.judges.base import RefusalDetector
from trustbench.judges.refusal import make_refusal_detector

CHUNK = 1000


def _read(input: Path) -> list[dict[str, Any]]:
    try:
        f = input.open(encoding="utf-8")
    except OSError as e:
        raise TrustbenchError(f"{input}: cannot read ({e.strerror or e})") from None
    rows: list[dict[str, Any]] = []
    with f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(f"{input}:{n}: invalid JSON ({e.msg})") from None
            if not isinstance(row, dict):
                raise DataError(f"{input}:{n}: expected a JSON object, got {type(row).__name__}")
            for key in ("prompt", "response"):
                if key not in row:
                    raise DataError(f"{input}:{n}: missing key {key!r}")
            if not isinstance(row["prompt"], str):
                raise DataError(f"{input}:{n}: 'prompt' must be a string")
            if row["response"] is not None and not isinstance(row["response"], str):
                raise DataError(f"{input}:{n}: 'response' must be a string or null")
            rows.append(row)
    return rows


def judge_refusal(input: Path, output: Path, detector: str = "classifier") -> None:
    """Read JSONL lines with `prompt` and `response`; write them with `refusal` (bool, or null
    when `response` is null), `refusal_score` (0..1 or null) and `detector` (its name).

    Bad lines raise DataError naming the file and line number; nothing is written then.
    """
    input, output = Path(input), Path(output)
    rows = _read(input)
    det: RefusalDetector = make_refusal_detector(detector)
    todo = [i for i, r in enumerate(rows) if r["response"] is not None]
    verdicts = {}
    for k in range(0, len(todo), CHUNK):
        idx = todo[k : k + CHUNK]
        for i, v in zip(idx, det.detect([rows[i]["response"] for i in idx])):
            verdicts[i] = v
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for i, row in enumerate(rows):
            v = verdicts.get(i)
            out = dict(row)
            out["refusal"] = v.refusal if v is not None else None
            out["refusal_score"] = v.score if v is not None else None
            out["detector"] = det.name
            f.write(json.dumps(out, ensure_ascii=False) + "\n")
    os.replace(tmp, output)
