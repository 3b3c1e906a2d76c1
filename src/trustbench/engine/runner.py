"""The run pipeline: plan -> generate (cached, scheduled) -> judge -> score -> write.

Each step lives in its own module (plan.py, generate.py, judge_step.py, score_step.py,
write.py); this module wires them together. The caller owns the progress display (a factory
passed as `progress`) and the report (the CLI and `trustbench.api` render it).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from trustbench.engine.config import RunConfig, RunResult, open_cache
from trustbench.engine.generate import Generation, ProgressSink, generate
from trustbench.engine.judge_step import judge
from trustbench.engine.judging import JudgeSet
from trustbench.engine.plan import Planned, gen_params, load_datasets, plan, select_records, suite_meta
from trustbench.engine.rates import estimate_seconds, save_rate
from trustbench.engine.rundir import RunWriter
from trustbench.core.scheduler import AdaptiveLimiter, RetryPolicy, Scheduler
from trustbench.engine.score_step import score, score_task
from trustbench.engine.write import build_manifest, default_out_dir, results_doc, scrub_argv, write_run
from trustbench.errors import TrustbenchError
from trustbench.models.base import Model

__all__ = [
    "Generation", "Planned", "RunConfig", "RunResult", "build_judges", "default_out_dir", "estimate_seconds",
    "gen_params", "generate", "plan", "run", "run_async", "score_task", "select_records", "suite_meta",
]
_scrub_argv = scrub_argv  # the name the secrets test imports

ProgressFactory = Callable[[int, int], AbstractContextManager[ProgressSink]]  # (items, fresh calls)


def build_judges(cfg: RunConfig, cache) -> JudgeSet:
    """The run's judges; the task registry is loaded first, so the LLM judge knows every task's prompt."""
    from trustbench.judges.factory import make_judges
    from trustbench.tasks.registry import all_tasks

    all_tasks()
    return make_judges(cfg, cache)


def load_run_model(cfg: RunConfig) -> Model:
    """The model a run's spec names, served by Ray replicas with --ray."""
    if cfg.ray:
        from trustbench.scale.pool import ReplicaPoolModel

        if cfg.base_url:
            raise TrustbenchError("--base-url does not combine with --ray (the replicas are the endpoints)")
        return ReplicaPoolModel(cfg.model, address=cfg.ray, replicas=cfg.replicas, replica_cpus=cfg.replica_cpus,
                                replica_gpus=cfg.replica_gpus)
    if cfg.model.startswith("vllm:"):
        raise TrustbenchError(f"model {cfg.model}: vllm: models run as Ray replicas; add --ray local (this machine) "
                              "or --ray ADDRESS")
    from trustbench.models.spec import load_model

    return load_model(cfg.model, base_url=cfg.base_url)


def make_scheduler(cfg: RunConfig) -> Scheduler:
    limiter = AdaptiveLimiter(
        initial=cfg.concurrency or 8,
        maximum=cfg.concurrency or cfg.max_concurrency,
        adaptive=cfg.concurrency is None,
    )
    return Scheduler(limiter, RetryPolicy(max_attempts=cfg.max_attempts, timeout=cfg.timeout), seed=cfg.seed)


async def run_async(
    cfg: RunConfig,
    model: Model | None = None,
    say: Callable[[str], None] = print,
    progress: ProgressFactory | None = None,
) -> RunResult:
    tasks, root, datasets = load_datasets(cfg)
    if model is None:
        model = load_run_model(cfg)
    cache = open_cache(cfg.cache)
    out_dir = Path(cfg.out) if cfg.out else default_out_dir(cfg.model)
    planned = plan(datasets, model, cfg)
    n_unique = len({p.key for p in planned})
    n_new = n_unique - len(cache.get_many([p.key for p in planned]))
    seconds, why = estimate_seconds(model, cfg.suite, n_new)
    judges = build_judges(cfg, cache)  # a bad judge option fails before anything is said or written
    from trustbench.engine.preflight import first_line_or_refuse

    shard = f" [shard {cfg.shard}]" if cfg.shard else ""
    say(first_line_or_refuse(planned, cache, cfg, seconds, why) + shard)  # raises above --max-cost
    writer = RunWriter(out_dir)  # fails early on an unwritable directory
    manifest = build_manifest(cfg, out_dir, root, datasets, model, judges)
    writer.write_manifest(manifest)
    scheduler = make_scheduler(cfg)
    t0 = time.monotonic()
    batch_api = getattr(model, "batch_api", False)
    from trustbench.engine.warmup import start_warmup

    warm = start_warmup(judges, datasets, cfg.report, cfg.model)  # overlaps judge and report loading with generation
    with progress(len(planned), n_new) if progress else contextlib.nullcontext() as sink:
        if n_new:
            async with model:
                manifest["model"]["info"] = model.info()
                if batch_api:
                    from trustbench.engine.batch_step import generate_batch

                    gen = await generate_batch(planned, model, cache, out_dir, sink, say)  # type: ignore[arg-type]
                else:
                    gen = await generate(planned, model, cache, scheduler, sink)
        else:
            manifest["model"]["info"] = model.info()
            gen = await generate(planned, model, cache, scheduler, sink)
    gen_seconds = time.monotonic() - t0
    replica_stats = getattr(model, "replica_stats", None)
    if replica_stats is not None:
        manifest["replicas"] = cfg.replicas
        manifest["replica_stats"] = replica_stats()
    calls = len(gen.fresh)
    if calls and gen_seconds > 0 and not batch_api:  # a batch's turnaround is no request rate
        save_rate(model, cfg.suite, calls / gen_seconds)

    await asyncio.to_thread(warm.join)
    if cfg.ray:
        from trustbench.engine.judge_step import judges_on_ray

        manifest["judges_on_ray"] = judges_on_ray(judges, cfg)
    try:
        judged = await judge(tasks, planned, gen, judges)
    finally:
        await judges.aclose()
    scored = score(judged, cfg.scoring, seed=cfg.seed, n_boot=cfg.n_boot, judge_error=judges.error_rates())
    samples = scored.samples
    failed = sum(1 for s in samples if s["response"] is None)
    first_error = next((f"{s['task']} {s['id']}: {s['error']}" for s in samples if s["response"] is None), None)
    results = results_doc(cfg.scoring, scored, {
        "items": len(samples),
        "failed": failed,
        "cache_hits": gen.cache_hits,
        "model_calls": calls,
        "retries": scheduler.stats.retries,
        "judge_errors": dict(judges.errors),
        "generation_seconds": round(gen_seconds, 3),
        **({"replicas": manifest["replica_stats"]} if "replica_stats" in manifest else {}),
    })
    write_run(writer, manifest, results, scored, judged if cfg.shard else None)
    cache.close()
    return RunResult(out_dir=out_dir, results=results, failed=failed, model_calls=calls, cache_hits=gen.cache_hits,
                     first_error=first_error)


def run(cfg: RunConfig, model: Model | None = None, say: Callable[[str], None] = print,
        progress: ProgressFactory | None = None) -> RunResult:
    """With --ray, Ray stays connected for the whole run (connected here, in the calling thread)."""
    if cfg.ray:
        from trustbench.scale.ray_cluster import ray_session

        from trustbench.engine.config import check_config

        check_config(cfg)  # bad options and a bad spec fail before Ray starts
        model = model or load_run_model(cfg)
        with ray_session(cfg.ray, cfg.replicas, cfg.replica_cpus, cfg.replica_gpus):
            return asyncio.run(run_async(cfg, model, say, progress))
    return asyncio.run(run_async(cfg, model, say, progress))
