"""`trustbench judge refusal`: add refusal verdicts to a JSONL file of prompt/response pairs, and
measure the detector against the lines' labels where they carry one.

Any detector runs through the judge wrapper (`trustbench.core.judge.CachedJudge`), so an `llm:`
detector's replies are cached and its transport errors retried, as in a run."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from trustbench.core.cache import Cache
from trustbench.core.judge import CachedJudge, Judge, Query, Verdict
from trustbench.errors import DataError, TrustbenchError
from trustbench.judges.agreement import agreement, parse_label
from trustbench.judges.registry import make_judge
from trustbench.judges.refusal import DEFAULT_DETECTOR

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
            try:
                parse_label(row.get("label"))
            except ValueError as e:
                raise DataError(f"{input}:{n}: {e}") from None
            rows.append(row)
    return rows


def judge_refusal(input: Path, output: Path, detector: str = DEFAULT_DETECTOR,
                  cache: Cache | None = None) -> dict[str, Any] | None:
    """Read JSONL lines with `prompt` and `response`; write them with `refusal` (bool, or null
    when `response` is null or the detector could not decide), `refusal_score` (0..1 or null),
    `detector` (its name) and, where a judgement failed, `refusal_error` (why).

    Returns the agreement with the lines' `label` field (see `judges.agreement`), or None when no
    line carries a label. Bad lines raise DataError naming the file and line number; nothing is
    written then.
    """
    input, output = Path(input), Path(output)
    rows = _read(input)
    det = make_judge("refusal", detector)
    assert det is not None
    todo = [i for i, r in enumerate(rows) if r["response"] is not None]
    verdicts = asyncio.run(_detect(det, cache, [rows[i]["response"] for i in todo]))
    by_row = dict(zip(todo, verdicts, strict=True))
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for i, row in enumerate(rows):
            v = by_row.get(i)
            out = dict(row)
            out["refusal"] = v.value if v is not None else None
            out["refusal_score"] = v.score if v is not None else None
            out["detector"] = det.name
            if v is not None and v.error:
                out["refusal_error"] = v.error
            f.write(json.dumps(out, ensure_ascii=False) + "\n")
    os.replace(tmp, output)
    labels = [parse_label(r.get("label")) for r in rows]
    return agreement(labels, [by_row[i].value if i in by_row else None for i in range(len(rows))])


async def _detect(det: Judge, cache: Cache | None, responses: list[str]) -> list[Verdict]:
    runner = CachedJudge(det, cache)
    out: list[Verdict] = []
    try:
        for k in range(0, len(responses), CHUNK):
            out.extend(await runner.run([Query(r) for r in responses[k : k + CHUNK]]))
    finally:
        close = getattr(det, "aclose", None)
        if close is not None:
            await close()
    return out


def judge_refusal_command(input: Path, output: Path, detector: str, cache: str | Path) -> str:
    """`trustbench judge refusal`: what the terminal shows (the agreement when lines are labelled)."""
    from trustbench.judges.agreement import format_agreement

    c = Cache(cache)
    try:
        summary = judge_refusal(input, output, detector=detector, cache=c)
    finally:
        c.close()
    lines = [f"verdicts: {output}"]
    if summary is not None:
        lines.append(f"against the labels in {input}:\n{format_agreement(summary)}")
    return "\n".join(lines)
