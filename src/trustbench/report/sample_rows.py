"""The HTML sample browser's data, in two steps: `sample_rows` makes the rows of a group of
samples (one pass: texts capped, verdicts and scores shortened, filter tags named), and
`merge_rows` joins groups in order into the page's blob with tag indexes and counts. A run makes
each task's rows as the task is scored, while other tasks still generate; `trustbench report`
makes one group from samples.jsonl. Both give the same blob."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_TEXT = 100_000  # characters of one message / response kept in the HTML sample browser
MAX_TAG_VALUES = 30  # a verdict key with more distinct values than this is not offered as a filter
FAILED_TAG = "generation failed"

_LITERALS = {True: "true", False: "false", None: "null"}


def _short(v: Any) -> str:
    if v is None or v is True or v is False:  # the common verdicts, as json.dumps writes them
        return _LITERALS[v]
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list):
        return f"<list len={len(v)}>"
    s = json.dumps(v, ensure_ascii=False)
    return s if len(s) <= 200 else s[:200] + "…"


def _cap(s: str | None) -> str | None:
    if s is None or len(s) <= MAX_TEXT:
        return s
    return s[:MAX_TEXT] + f"\n[… {len(s) - MAX_TEXT} more characters not shown in the report; see samples.jsonl]"


@dataclass
class SampleRows:
    """One group's rows (tags by name; `merge_rows` numbers them) and its failure counts."""

    n: int = 0
    tasks: list[str] = field(default_factory=list)  # in order of first appearance
    rows: list[tuple[str, str, list, Any, Any, str, list[str], str, bool]] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    unparsed: dict[str, Counter[str]] = field(default_factory=dict)
    failed: Counter[str] = field(default_factory=Counter)
    tag_values: dict[str, set[str]] = field(default_factory=dict)  # verdict key -> its tags


def sample_rows(samples: Iterable[Mapping[str, Any]], *, rows: bool = True) -> SampleRows:
    """The rows of samples (dicts as samples.jsonl holds them); `rows=False`: the counts only."""
    out = SampleRows()
    seen: set[str] = set()
    for s in samples:
        out.n += 1
        task = str(s["task"])
        if task not in seen:
            seen.add(task)
            out.tasks.append(task)
        response, error = s.get("response"), s.get("error")
        tags = []
        if response is None:
            out.failed[task] += 1
            out.errors[(str(error) if error else "no response")[:160]] += 1
            tags.append(FAILED_TAG)
        vparts = []
        for k, v in (s.get("verdicts") or {}).items():
            vparts.append(f"{k}={_short(v)}")
            if v is None and response is not None:
                out.unparsed.setdefault(task, Counter())[k] += 1
            if v is None or isinstance(v, (bool, str)):
                tag = f"{k}: {'unparsed' if v is None else _short(v)}"
                tags.append(tag)
                out.tag_values.setdefault(k, set()).add(tag)
        if rows:
            msgs = [[str(m.get("role", "")), _cap(str(m.get("content", "")))] for m in (s.get("messages") or []) if isinstance(m, dict)]
            score_text = "  ".join(f"{k}={_short(v)}" for k, v in (s.get("score") or {}).items())
            out.rows.append((task, str(s["id"]), msgs, _cap(response), error, "  ".join(vparts), tags, score_text,
                             bool(s.get("cached"))))
    return out


def merge_rows(parts: Sequence[SampleRows]) -> dict[str, Any]:
    """The groups in order: the browser's blob (tasks, filter tags, rows), the most common
    errors, unparsed verdicts and failures per task. Verdict keys with more than MAX_TAG_VALUES
    distinct values (free text) are not offered as filters."""
    values: dict[str, set[str]] = {}
    errors: Counter[str] = Counter()
    unparsed: dict[str, Counter[str]] = {}
    failed: Counter[str] = Counter()
    for p in parts:
        for k, tags in p.tag_values.items():
            values.setdefault(k, set()).update(tags)
        errors.update(p.errors)
        failed.update(p.failed)
        for task, c in p.unparsed.items():
            unparsed.setdefault(task, Counter()).update(c)
    tag_names = [FAILED_TAG, *sorted({t for tags in values.values() if len(tags) <= MAX_TAG_VALUES for t in tags})]
    tag_index = {t: i for i, t in enumerate(tag_names)}
    task_names = list(dict.fromkeys(t for p in parts for t in p.tasks))
    task_index = {t: i for i, t in enumerate(task_names)}
    task_count: Counter[int] = Counter()
    tag_count: Counter[int] = Counter()
    out_rows = []
    for p in parts:
        for task, sid, msgs, resp, err, vtext, tags, score_text, cached in p.rows:
            idx = [tag_index[t] for t in tags if t in tag_index]
            tag_count.update(idx)
            task_count[task_index[task]] += 1
            out_rows.append([task_index[task], sid, msgs, resp, err, vtext, idx, score_text, 1 if cached else 0])
    return {
        "n": sum(p.n for p in parts),
        "blob": {
            "tasks": task_names,
            "taskCounts": [task_count[i] for i in range(len(task_names))],
            "tags": tag_names,
            "tagCounts": [tag_count[i] for i in range(len(tag_names))],
            "rows": out_rows,
        },
        "errors": errors.most_common(10),
        "unparsed": {t: dict(c) for t, c in unparsed.items()},
        "failed": dict(failed),
    }
