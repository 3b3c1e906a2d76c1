"""The run pipeline: load -> generate (cached, scheduled) -> judge -> score -> run directory."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trustbench import __version__
from trustbench.data.loader import (
    TaskData,
    default_cache_dir,
    load_task_data,
    suite_root,
)
from trustbench.engine.cache import Cache, cache_key
from trustbench.engine.judging import JudgeSet, apply_judges
from trustbench.engine.rundir import RunWriter
from trustbench.engine.scheduler import AdaptiveLimiter, RetryPolicy, Scheduler
from trustbench.errors import TrustbenchError
from trustbench.models.base import GenParams, Model, ModelError
from trustbench.scoring.stats import attach_intervals, dimension_summary
from trustbench.tasks.base import SCORING_MODES, Item, Task, TaskScore
from trustbench.tasks.registry import select_tasks


@dataclass
class RunConfig:
    """Everything `trustbench run` accepts (the CLI and `trustbench.api.run` build one)."""

    model: str = "local:smollm2"
    suite: str = "builtin"
    data: str | None = None
    tasks: str | None = None
    limit: int | None = None
    sample: int | None = None
    seed: int = 0
    out: str | None = None
    cache: str | None = None
    base_url: str | None = None
    concurrency: int | None = None  # fixed concurrency; None = adaptive
    max_concurrency: int = 64
    timeout: float = 300.0
    max_attempts: int = 6
    temperature: float | None = None
    max_tokens: int | None = None
    system_prompt: str | None = None
    scoring: str = "corrected"
    judge: str | None = None
    judge_base_url: str | None = None
    refusal_detector: str = "classifier"
    embedder: str = "minilm"
    toxicity: str = "offline"
    report: bool = True
    progress: bool = True
    n_boot: int = 200
    argv: list[str] = field(default_factory=lambda: list(sys.argv))


@dataclass
class Planned:
    task: Task
    index: int
    record: dict[str, Any]
    item_id: str
    messages: list[dict[str, str]]
    params: GenParams
    key: str


@dataclass
class RunResult:
    out_dir: Path
    results: dict[str, Any]
    failed: int
    model_calls: int
    cache_hits: int
    first_error: str | None = None  # "<task> <item id>: <reason>" of the first failed item


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


def plan(datasets: Sequence[TaskData], model: Model, cfg: RunConfig) -> list[Planned]:
    identity = model.identity()
    out: list[Planned] = []
    for data in datasets:
        params = gen_params(data.task, cfg)
        for i in select_records(data, cfg.limit, cfg.sample, cfg.seed):
            rec = data.records[i]
            msgs = data.task.messages(rec)
            if cfg.system_prompt:
                msgs = [{"role": "system", "content": cfg.system_prompt}, *msgs]
            key = cache_key("gen", identity, params.to_dict(), msgs)
            out.append(Planned(data.task, i, rec, data.task.item_id(rec, i), msgs, params, key))
    return out


class Progress:
    """A rich progress bar (items, rate, ETA, failures, cache hits), or nothing when disabled."""

    def __init__(self, total: int, enabled: bool):
        self.enabled = enabled
        self.failures = 0
        self.hits = 0
        if enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            self._p = RichProgress(
                TextColumn("[bold]generating"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                TextColumn("failed {task.fields[failures]} · cached {task.fields[hits]}"),
                transient=False,
            )
            self._t = self._p.add_task("gen", total=total, failures=0, hits=0, rate="")
            self._start = time.monotonic()
            self._done = 0

    def __enter__(self) -> Progress:
        if self.enabled:
            self._p.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self._p.stop()

    def advance(self, *, failed: bool = False, hit: bool = False, n: int = 1) -> None:
        self.failures += failed
        self.hits += hit * n
        if self.enabled:
            self._done += n
            rate = self._done / max(1e-6, time.monotonic() - self._start)
            self._p.update(self._t, advance=n, failures=self.failures, hits=self.hits, rate=f"{rate:.1f}/s")


async def generate(
    planned: Sequence[Planned],
    model: Model,
    cache: Cache,
    scheduler: Scheduler,
    progress: Progress,
) -> tuple[dict[str, dict[str, Any]], dict[str, str], set[str]]:
    """Responses by cache key (from cache or model), errors by key, and the keys fetched now."""
    unique: dict[str, Planned] = {}
    for p in planned:
        unique.setdefault(p.key, p)
    stored = cache.get_many(list(unique))
    progress.advance(hit=True, n=sum(1 for p in planned if p.key in stored))
    errors: dict[str, str] = {}
    todo = [p for k, p in unique.items() if k not in stored]
    dupes: dict[str, int] = {}
    for p in planned:
        if p.key not in stored:
            dupes[p.key] = dupes.get(p.key, 0) + 1
    fresh: set[str] = set()

    async def one(p: Planned) -> None:
        try:
            completion = await scheduler.call(lambda: model.complete(p.messages, p.params))
        except ModelError as e:
            errors[p.key] = e.reason
            progress.advance(failed=True, n=dupes[p.key])
            return
        fresh.add(p.key)
        value = {"text": completion.text, "finish_reason": completion.finish_reason}
        cache.put(p.key, value)
        stored[p.key] = value
        progress.advance(n=dupes[p.key])

    tasks = [asyncio.ensure_future(one(p)) for p in todo]
    try:
        await asyncio.gather(*tasks)
    except BaseException:  # a cache write failed, or Ctrl-C: stop the other calls before the model closes
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    return stored, errors, fresh


def build_judges(cfg: RunConfig, cache: Cache) -> JudgeSet:
    from trustbench.judges.factory import make_judges

    return make_judges(cfg, cache)


def score_task(task: Task, items: list[Item], cfg: RunConfig, judges: JudgeSet) -> TaskScore:
    score = task.score(items, cfg.scoring)  # type: ignore[arg-type]
    return attach_intervals(
        task, items, score, cfg.scoring, seed=cfg.seed, n_boot=cfg.n_boot, judge_error=judges.error_rates()  # type: ignore[arg-type]
    )


def default_out_dir(model_spec: str) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in model_spec)[:60]
    return Path("runs") / f"{stamp}-{safe}"


def _rate_key(model: Model, suite: str) -> str:
    return cache_key(model.identity(), suite)


def estimate_seconds(model: Model, suite: str, n_calls: int) -> tuple[float | None, str]:
    """Expected duration: calls times the rate measured on the last run of this model on this
    suite (rates.json), else the rate shipped for the default model (bench/RESULTS.md)."""
    rate = _load_rates().get(_rate_key(model, suite))
    source = "measured on the last run"
    if not rate:
        shipped = suite_meta(suite).get("reference_rates", {}).get(getattr(model, "spec", ""))
        if shipped:
            rate, source = float(shipped), "measured for this model on a 2-core machine"
    if n_calls == 0:
        return None, "every response is cached"
    if not rate:
        return None, "no measured rate for this model yet; the progress bar shows the ETA"
    return n_calls / rate, f"{n_calls} model calls at {rate:.2f}/s {source}"


def _rates_path() -> Path:
    return default_cache_dir() / "rates.json"


def _load_rates() -> dict[str, float]:
    try:
        return json.loads(_rates_path().read_text())
    except (OSError, ValueError):
        return {}


def _save_rate(model: Model, suite: str, rate: float) -> None:
    rates = _load_rates()
    rates[_rate_key(model, suite)] = rate
    try:
        _rates_path().parent.mkdir(parents=True, exist_ok=True)
        _rates_path().write_text(json.dumps(rates))
    except OSError:
        pass


async def run_async(cfg: RunConfig, model: Model | None = None, say: Callable[[str], None] = print) -> RunResult:
    if cfg.scoring not in SCORING_MODES:
        raise TrustbenchError(f"--scoring: must be one of {', '.join(SCORING_MODES)}")
    for flag, value in (("--limit", cfg.limit), ("--sample", cfg.sample)):
        if value is not None and value < 1:
            raise TrustbenchError(f"{flag}: must be a positive integer")
    if cfg.limit is not None and cfg.sample is not None:
        raise TrustbenchError("--limit and --sample cannot be combined")
    for flag, value in (("--max-attempts", cfg.max_attempts), ("--concurrency", cfg.concurrency),
                        ("--max-concurrency", cfg.max_concurrency), ("--max-tokens", cfg.max_tokens)):
        if value is not None and value < 1:
            raise TrustbenchError(f"{flag}: must be a positive integer")
    if not cfg.timeout > 0:  # also rejects NaN
        raise TrustbenchError("--timeout: must be a positive number of seconds")
    tasks = select_tasks(cfg.tasks)
    if not tasks:
        raise TrustbenchError(f"--tasks: {cfg.tasks!r} selects no tasks; see `trustbench tasks`")
    root = suite_root(cfg.suite, cfg.data)
    datasets = [load_task_data(t, root) for t in tasks]
    if model is None:
        from trustbench.models.spec import load_model

        model = load_model(cfg.model, base_url=cfg.base_url)
    cache = Cache(cfg.cache or os.environ.get("TRUSTBENCH_CACHE") or default_cache_dir() / "cache.sqlite")
    out_dir = Path(cfg.out) if cfg.out else default_out_dir(cfg.model)
    writer = RunWriter(out_dir)  # fails early on an unwritable directory
    judges = build_judges(cfg, cache)
    planned = plan(datasets, model, cfg)
    started = dt.datetime.now(dt.UTC).isoformat()
    manifest: dict[str, Any] = {
        "trustbench_version": __version__,
        "run_id": out_dir.name,
        "started_at": started,
        "ended_at": None,
        "suite": {"name": cfg.suite, "version": _suite_version(cfg.suite), "root": str(root)},
        "dataset_files": {
            d.task.name: {"path": str(d.path), "sha256": d.sha256, "records": len(d.records)} for d in datasets
        },
        "tasks": [t.name for t in tasks],
        "model": {"spec": cfg.model, "identity": model.identity(), "info": None},
        "generation": {
            d.task.name: {**gen_params(d.task, cfg).to_dict(), "system_prompt": cfg.system_prompt}
            for d in datasets
        },
        "seed": cfg.seed,
        "limit": cfg.limit,
        "sample": cfg.sample,
        "scoring": cfg.scoring,
        "judges": {**judges.identities(), "measured_error": judges.error_rates()},
        "command": _scrub_argv(cfg.argv),
    }
    writer.write_manifest(manifest)
    limiter = AdaptiveLimiter(
        initial=cfg.concurrency or 8,
        maximum=cfg.concurrency or cfg.max_concurrency,
        adaptive=cfg.concurrency is None,
    )
    scheduler = Scheduler(limiter, RetryPolicy(max_attempts=cfg.max_attempts, timeout=cfg.timeout), seed=cfg.seed)
    n_unique = len({p.key for p in planned})
    n_new = n_unique - len(cache.get_many([p.key for p in planned]))
    seconds, why = estimate_seconds(model, cfg.suite, n_new)
    say(
        f"{len(planned)} items in {len(tasks)} tasks; {n_new} need the model"
        + (f"; expected ~{_fmt_duration(seconds)} ({why})" if seconds is not None else f" ({why})")
    )
    t0 = time.monotonic()
    with Progress(len(planned), cfg.progress) as progress:
        if n_new:
            async with model:
                manifest["model"]["info"] = model.info()
                stored, errors, fresh = await generate(planned, model, cache, scheduler, progress)
        else:
            manifest["model"]["info"] = model.info()
            stored, errors, fresh = await generate(planned, model, cache, scheduler, progress)
    gen_seconds = time.monotonic() - t0
    calls = len(fresh)
    if calls and gen_seconds > 0:
        _save_rate(model, cfg.suite, calls / gen_seconds)

    try:
        results_tasks, scored, samples = await judge_and_score(tasks, planned, stored, errors, fresh, judges, cfg)
    finally:
        await judges.aclose()
    failed = sum(1 for s in samples if s["response"] is None)
    first_error = next((f"{s['task']} {s['id']}: {s['error']}" for s in samples if s["response"] is None), None)
    results = {
        "scoring": cfg.scoring,
        "tasks": results_tasks,
        "dimensions": _dimensions(scored),
        "summary": {
            "items": len(samples),
            "failed": failed,
            "cache_hits": progress.hits,
            "model_calls": calls,
            "retries": scheduler.stats.retries,
            "judge_errors": dict(judges.errors),
        },
    }
    manifest["ended_at"] = dt.datetime.now(dt.UTC).isoformat()
    writer.write_samples(samples)
    writer.write_results(results)
    writer.write_manifest(manifest)
    if cfg.report:
        from trustbench.report import write_report

        write_report(out_dir, fmt="html")
    cache.close()
    return RunResult(out_dir=out_dir, results=results, failed=failed, model_calls=calls, cache_hits=progress.hits,
                     first_error=first_error)


async def judge_and_score(
    tasks: Sequence[Task],
    planned: Sequence[Planned],
    stored: dict[str, dict[str, Any]],
    errors: dict[str, str],
    fresh: set[str],
    judges: JudgeSet,
    cfg: RunConfig,
) -> tuple[dict[str, Any], dict[str, tuple[Task, TaskScore]], list[dict[str, Any]]]:
    """Judge and score task by task: results.json's task entries, the scores, the sample lines."""
    results_tasks: dict[str, Any] = {}
    scored: dict[str, tuple[Task, TaskScore]] = {}
    samples: list[dict[str, Any]] = []
    by_task: dict[str, list[Planned]] = {}
    for p in planned:
        by_task.setdefault(p.task.name, []).append(p)
    for task in tasks:
        ps = by_task.get(task.name, [])
        items = [
            Item(
                task=task.name,
                id=p.item_id,
                index=p.index,
                record=p.record,
                response=stored[p.key]["text"] if p.key in stored else None,
                error=errors.get(p.key) if p.key not in stored else None,
                verdicts=task.frozen(p.record),
            )
            for p in ps
        ]
        items, notes = await apply_judges(task, items, judges)
        score = score_task(task, items, cfg, judges)
        scored[task.name] = (task, score)
        results_tasks[task.name] = {
            "dimension": task.dimension,
            "description": task.description,
            "n_items": len(items),
            "n_failed": sum(1 for it in items if it.response is None),
            "metrics": {k: m.to_dict() for k, m in score.metrics.items()},
        }
        for p, it, note in zip(ps, items, notes, strict=True):
            samples.append(
                {
                    "task": task.name,
                    "id": it.id,
                    "index": it.index,
                    "messages": p.messages,
                    "response": it.response,
                    "error": it.error,
                    "verdicts": _jsonable_verdicts(it.verdicts),
                    "verdict_notes": note or None,
                    "judges": _judge_names(task, it, judges),
                    "score": score.per_item.get(it.id, {}),
                    "cached": p.key in stored and p.key not in fresh,
                }
            )
    return results_tasks, scored, samples


def _jsonable_verdicts(verdicts: dict[str, Any]) -> dict[str, Any]:
    """Embeddings are long: samples keep a short fingerprint of them, not the vector."""
    out = {}
    for k, v in verdicts.items():
        if isinstance(v, list) and len(v) > 16:
            out[k] = f"<vector dim={len(v)}>"
        else:
            out[k] = v
    return out


def _judge_names(task: Task, item: Item, judges: JudgeSet) -> dict[str, Any]:
    names = {}
    if item.response is None:
        return names
    for r in task.judges(item.record, item.response):
        names[r.key] = judges.name_for(r.kind)
    return names


def _dimensions(scored: dict[str, tuple[Task, TaskScore]]) -> dict[str, Any]:
    return dimension_summary(scored)


def _suite_version(suite: str) -> str:
    if suite == "builtin":
        return str(suite_meta("builtin").get("version", "unknown"))
    return "trustllm-v0.3.0"


def _scrub_argv(argv: list[str]) -> list[str]:
    """Command line for the manifest, with anything that looks like a key removed."""
    out = []
    for a in argv:
        low = a.lower()
        out.append("***" if ("key" in low and "=" in a) or low.startswith("sk-") else a)
    return out


def _fmt_duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def run(cfg: RunConfig, model: Model | None = None, say: Callable[[str], None] = print) -> RunResult:
    return asyncio.run(run_async(cfg, model, say))
