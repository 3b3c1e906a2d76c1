"""Plan step: which records run (limit, stratified sample, shard) and the exact request for each."""

from __future__ import annotations

import functools
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pathlib import Path

from trustbench.core.cache import key_prefix
from trustbench.data.loader import InputLimits, TaskData, load_task_data, suite_root
from trustbench.engine.config import RunConfig, check_config
from trustbench.errors import TrustbenchError
from trustbench.models.base import GenParams, Model
from trustbench.tasks.base import Task
from trustbench.tasks.registry import select_tasks


@dataclass
class Planned:
    task: Task
    index: int
    record: dict[str, Any]
    item_id: str
    messages: list[dict[str, str]]
    params: GenParams
    key: str


def load_datasets(cfg: RunConfig) -> tuple[list[Task], Path, list[TaskData]]:
    """Check the options, select the tasks and load their data under the input limits: the first
    step of both `run` and `plan`. Returns (tasks, data root, one TaskData per task)."""
    check_config(cfg)
    tasks = select_tasks(cfg.tasks)
    if not tasks:
        raise TrustbenchError(f"--tasks: {cfg.tasks!r} selects no tasks; see `trustbench tasks`")
    root = suite_root(cfg.suite, cfg.data)
    limits = InputLimits(cfg.max_prompt_chars, cfg.max_record_chars, cfg.max_items)
    return tasks, root, [load_task_data(t, root, limits) for t in tasks]


def select_records(data: TaskData, limit: int | None, sample: int | None, seed: int) -> list[int]:
    """Indices to run: the first `limit`, or a stratified sample of about `sample` records.

    Sampling draws whole units (`task.unit`: records scored together, such as the two orderings
    of a sycophancy-preference pair or an AdvGLUE original and its rewrite), stratified by
    `task.group` of each unit's first record; a stratum takes units until it holds its quota.
    """
    n = len(data.records)
    if limit is not None:
        return list(range(min(limit, n)))
    if sample is None or sample >= n:
        return list(range(n))
    group = data.task.group or (lambda r: "")
    unit = data.task.unit or (lambda r, i: str(i))
    units: dict[str, list[int]] = {}
    for i, rec in enumerate(data.records):
        units.setdefault(unit(rec, i), []).append(i)
    strata: dict[str, list[list[int]]] = {}
    for idxs in units.values():
        strata.setdefault(str(group(data.records[idxs[0]])), []).append(idxs)
    rng = random.Random(f"{seed}:{data.task.name}")
    size = {k: sum(len(u) for u in us) for k, us in strata.items()}
    # Largest-remainder allocation of records, at least one per stratum while the budget allows.
    keys = sorted(strata)
    quotas = {k: sample * size[k] / n for k in keys}
    alloc = {k: int(q) for k, q in quotas.items()}
    for k in sorted(keys, key=lambda k: quotas[k] - alloc[k], reverse=True)[: sample - sum(alloc.values())]:
        alloc[k] += 1
    if sample >= len(keys):  # an empty stratum takes one slot from the largest allocation
        for k in keys:
            if alloc[k] == 0:
                donor = max(keys, key=lambda d: (alloc[d], d))
                alloc[donor] -= 1
                alloc[k] += 1
    chosen: list[int] = []
    for k in keys:
        taken = 0
        for u in rng.sample(strata[k], len(strata[k])):
            if taken >= alloc[k]:
                break
            chosen.extend(u)
            taken += len(u)
    return sorted(chosen)


def gen_params(task: Task, cfg: RunConfig) -> GenParams:
    """TrustLLM's per-file temperature and the task's max_tokens, unless overridden. The
    built-in suite caps max_tokens (suite.json) so the default run stays short."""
    max_tokens = task.max_tokens
    if cfg.suite == "builtin":
        cap = suite_meta("builtin").get("max_tokens_cap")
        if cap:
            max_tokens = min(max_tokens, int(cap))
    return GenParams(
        temperature=task.temperature if cfg.temperature is None else cfg.temperature,
        max_tokens=max_tokens if cfg.max_tokens is None else cfg.max_tokens,
        seed=cfg.seed,
    )


@functools.cache
def suite_meta(suite: str) -> dict[str, Any]:
    """The built-in suite's suite.json (version, generation caps); {} for other suites."""
    if suite != "builtin":
        return {}
    from trustbench.data.loader import builtin_root

    try:
        return json.loads((builtin_root() / "suite.json").read_text())
    except (OSError, ValueError):
        return {}


def suite_version(suite: str) -> str:
    if suite == "builtin":
        return str(suite_meta("builtin").get("version", "unknown"))
    return "trustllm-v0.3.0"


def run_indices(data: TaskData, cfg: RunConfig) -> list[int]:
    """The records of `data` this run covers: limit or sample, then the shard's units."""
    indices = select_records(data, cfg.limit, cfg.sample, cfg.seed)
    if cfg.shard is not None:
        from trustbench.engine.shard import parse_shard, shard_records

        indices = shard_records(data, indices, *parse_shard(cfg.shard))
    return indices


def plan(datasets: Sequence[TaskData], model: Model, cfg: RunConfig) -> list[Planned]:
    identity = model.identity()
    out: list[Planned] = []
    for data in datasets:
        params = gen_params(data.task, cfg)
        key_of = key_prefix("gen", identity, params.to_dict())  # cache_key("gen", identity, params, msgs)
        for i in run_indices(data, cfg):
            rec = data.records[i]
            msgs = data.task.messages(rec)
            if cfg.system_prompt:
                msgs = [{"role": "system", "content": cfg.system_prompt}, *msgs]
            out.append(Planned(data.task, i, rec, data.task.item_id(rec, i), msgs, params, key_of(msgs)))
    return out
