"""Deterministic shards: `--shard I/N` keeps the sampling units whose hashed id falls in shard I.

A unit (`Task.unit`: an AdvGLUE pair, an AdvInstruction group, a sycophancy pair, else one
record) is assigned by SHA-256 of "<task name>\\0<unit id>", so the split is the same on every
run and machine (Python's hash() is salted per process) and a unit is never cut in two.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from trustbench.data.loader import TaskData
from trustbench.errors import TrustbenchError


def parse_shard(value: str) -> tuple[int, int]:
    """"I/N" -> (I, N) with 0 <= I < N; a one-line error names --shard otherwise."""
    index, sep, count = (value or "").strip().partition("/")
    try:
        i, n = int(index), int(count)
    except ValueError:
        i = n = -1
    if not sep or n < 1 or not 0 <= i < n:
        raise TrustbenchError(f"--shard: {value!r} is not I/N with 0 <= I < N (e.g. 0/4)")
    return i, n


def unit_shard(task_name: str, unit_id: str, count: int) -> int:
    digest = hashlib.sha256(f"{task_name}\0{unit_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % count


def shard_records(data: TaskData, indices: Sequence[int], index: int, count: int) -> list[int]:
    """The subset of `indices` (already limited or sampled) whose unit belongs to shard `index`."""
    unit = data.task.unit or (lambda r, i: str(i))
    name = data.task.name
    return [i for i in indices if unit_shard(name, unit(data.records[i], i), count) == index]
