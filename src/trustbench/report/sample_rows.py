"""The HTML sample browser's data, in two steps: `sample_rows` makes the rows of a group of
samples (one pass: texts capped, verdicts and scores shortened, filter tags named), and
`SampleBlob` joins groups in order into the page's blob, gzip-compressed as each group arrives,
with the counts the report shows. A run adds each task's rows as the task is scored, while later
tasks still generate, so little is left to compress after the last response; `trustbench report`
adds one group made from samples.jsonl. Both give the same blob, byte for byte."""

from __future__ import annotations

import base64
import json
import re
import threading
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_TEXT = 100_000  # characters of one message / response kept in the HTML sample browser
MAX_TAG_VALUES = 30  # a verdict key with more distinct values than this is not offered as a filter
FAILED_TAG = "generation failed"

_LITERALS = {True: "true", False: "false", None: "null"}
_VECTOR = re.compile(r"<vector dim=\d+>")  # an embedding's stand-in in samples.jsonl (engine/judge_step.jsonable_verdicts)


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
    """One group's rows (tasks and tags by name; `SampleBlob` numbers them) and its failure counts."""

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
            if v is None or isinstance(v, bool) or (isinstance(v, str) and not _VECTOR.fullmatch(v)):
                tag = f"{k}: {'unparsed' if v is None else _short(v)}"
                tags.append(tag)
                out.tag_values.setdefault(k, set()).add(tag)
        if rows:
            msgs = [[str(m.get("role", "")), _cap(str(m.get("content", "")))] for m in (s.get("messages") or []) if isinstance(m, dict)]
            score_text = "  ".join(f"{k}={_short(v)}" for k, v in (s.get("score") or {}).items())
            out.rows.append((task, str(s["id"]), msgs, _cap(response), error, "  ".join(vparts), tags, score_text,
                             bool(s.get("cached"))))
    return out


def script_json(obj: Any) -> str:
    """JSON safe inside <script type="application/json">: <, >, &, U+2028, U+2029 escaped."""
    s = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return (
        s.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


class SampleBlob:
    """Groups of rows joined in order (`put`) into the browser's blob: the JSON object
    {rows, tasks, taskCounts, tags, tagCounts, offered}, each piece escaped by `script_json`,
    gzip-compressed as it comes (`finish` base64-encodes it: an inert <script> block about a third
    of the JSON's size, decompressed by the page with the browser's DecompressionStream).

    A row names its task and filter tags by number, numbered in order of first appearance, so a
    row's numbers never change as later groups arrive. `offered` lists the tags offered as filters,
    decided at the end: "generation failed" first, then by name, leaving out the tags of a verdict
    key with more than MAX_TAG_VALUES distinct values (free text). `put` may be called from
    several threads and in any order; the groups join in position order."""

    def __init__(self) -> None:
        self._z = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: the gzip container
        self._out = [self._z.compress(b'{"rows":[')]
        self._first = True
        self._tasks: dict[str, int] = {}
        self._task_counts: list[int] = []
        self._tags: dict[str, int] = {FAILED_TAG: 0}
        self._tag_counts: list[int] = [0]
        self._values: dict[str, set[str]] = {}
        self._n = 0
        self._errors: Counter[str] = Counter()
        self._unparsed: dict[str, Counter[str]] = {}
        self._failed: Counter[str] = Counter()
        self._waiting: dict[int, SampleRows] = {}
        self._next = 0
        self._lock = threading.Lock()
        self._done: dict[str, Any] | None = None

    def put(self, position: int, group: SampleRows) -> None:
        """Add `group` as the `position`-th (from 0); it waits for the groups before it."""
        with self._lock:
            if self._done is not None:
                raise ValueError("the blob is finished")
            self._waiting[position] = group
            while self._next in self._waiting:
                self._add(self._waiting.pop(self._next))
                self._next += 1

    def _add(self, g: SampleRows) -> None:
        self._n += g.n
        self._errors.update(g.errors)
        self._failed.update(g.failed)
        for task, c in g.unparsed.items():
            self._unparsed.setdefault(task, Counter()).update(c)
        for k, tags in g.tag_values.items():
            self._values.setdefault(k, set()).update(tags)
        rows = []
        for task, sid, msgs, resp, err, vtext, tags, score_text, cached in g.rows:
            t = self._number(self._tasks, self._task_counts, task)
            rows.append([t, sid, msgs, resp, err, vtext, [self._number(self._tags, self._tag_counts, x) for x in tags],
                         score_text, 1 if cached else 0])
        if rows:
            text = script_json(rows)[1:-1]  # the rows without the list's brackets
            self._out.append(self._z.compress((text if self._first else "," + text).encode("utf-8")))
            self._first = False

    @staticmethod
    def _number(index: dict[str, int], counts: list[int], name: str) -> int:
        i = index.get(name)
        if i is None:
            i = index[name] = len(counts)
            counts.append(0)
        counts[i] += 1
        return i

    def finish(self) -> dict[str, Any]:
        """The blob (base64 of the gzip) and the counts: n, errors (the 10 most common), unparsed
        verdicts and failures per task. Every group put must have joined; nothing joins after."""
        with self._lock:
            if self._done is None:
                if self._waiting:
                    raise ValueError(f"sample groups {sorted(self._waiting)} wait for group {self._next}")
                names = list(self._tags)
                kept = {t for tags in self._values.values() if len(tags) <= MAX_TAG_VALUES for t in tags}
                offered = [0] + sorted((self._tags[t] for t in kept if t in self._tags), key=names.__getitem__)
                end = ("],\"tasks\":" + script_json(list(self._tasks)) + ",\"taskCounts\":" + script_json(self._task_counts)
                       + ",\"tags\":" + script_json(names) + ",\"tagCounts\":" + script_json(self._tag_counts)
                       + ",\"offered\":" + script_json(offered) + "}")
                gz = b"".join([*self._out, self._z.compress(end.encode("utf-8")), self._z.flush()])
                self._out, self._waiting = [], {}
                self._done = {
                    "n": self._n,
                    "blob_b64": base64.b64encode(gz).decode("ascii"),
                    "errors": self._errors.most_common(10),
                    "unparsed": {t: dict(c) for t, c in self._unparsed.items()},
                    "failed": dict(self._failed),
                }
            return self._done
