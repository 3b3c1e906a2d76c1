"""The run pipeline: plan -> generate (cached, scheduled) -> judge -> score -> write.

Each step lives in its own module (plan.py, generate.py, judge_step.py, score_step.py,
write.py); this module wires them together, with pipeline.py judging and scoring each task
while the model still answers the others. The caller owns the progress display (a factory
passed as `progress`) and the report (the CLI and `trustbench.api` render it). What judging and
scoring alone need (numpy, the scorers' intervals) is imported during generation.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from trustbench.engine.config import RunConfig, RunResult, open_cache
from trustbench.engine.generate import Generation, LateProgress, ProgressSink, generate
from trustbench.engine.judging import JudgeSet
from trustbench.engine.plan import Planned, gen_params, load_datasets, plan, select_records, suite_meta
from trustbench.engine.rates import estimate_seconds, save_rate
from trustbench.engine.rundir import RunWriter
from trustbench.engine.judge_worker import JudgeWorker, wants_worker
from trustbench.engine.score_worker import ScoreWorker
from trustbench.engine.warmup import planned_judge_kinds, start_warmup
from trustbench.core.scheduler import AdaptiveLimiter, RetryPolicy, Scheduler
from trustbench.engine.write import build_manifest, default_out_dir, results_doc, scrub_argv, write_run
from trustbench.errors import TrustbenchError
from trustbench.models.base import Model

__all__ = [
    "Generation", "Planned", "RunConfig", "RunResult", "build_judges", "default_out_dir", "estimate_seconds",
    "gen_params", "generate", "plan", "run", "run_async", "score_task", "select_records", "suite_meta",
]


def __getattr__(name: str):
    if name == "score_task":  # imported when asked for: it brings numpy
        from trustbench.engine.score_step import score_task

        return score_task
    raise AttributeError(name)


_scrub_argv = scrub_argv  # the name the secrets test imports

FIRST_WAVE_WAIT = 0.2  # seconds the judges wait, at most, for the first response before loading

ProgressFactory = Callable[[int, int], AbstractContextManager[ProgressSink]]  # (items, fresh calls)


def build_judges(cfg: RunConfig, cache) -> JudgeSet:
    """The run's judges. With an LLM judge the whole task registry is loaded first: the judge
    knows every task's prompt (its identity and cache keys name them all)."""
    from trustbench.judges.factory import make_judges

    if cfg.judge:
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


def open_run_dir(cfg: RunConfig, out_dir: Path, root: Path, datasets: Any, model: Model,
                 judges: JudgeSet) -> tuple[RunWriter, dict[str, Any]]:
    """The run directory with its manifest (in a thread while the model answers: the records'
    models are built and the file written off the event loop); fails early when not writable."""
    writer = RunWriter(out_dir)
    manifest = build_manifest(cfg, out_dir, root, datasets, model, judges)
    writer.write_manifest(manifest)
    return writer, manifest


def overlaps_generation(cfg: RunConfig) -> bool:
    """Whether judging and scoring run while the model generates: not beside a model on this
    machine (llama.cpp, transformers, Ray replicas keep its cores busy)."""
    return cfg.model.partition(":")[0] not in ("local", "hf") and cfg.ray is None


def make_scheduler(cfg: RunConfig) -> Scheduler:
    limiter = AdaptiveLimiter(
        initial=cfg.concurrency or 8,
        maximum=cfg.concurrency or cfg.max_concurrency,
        adaptive=cfg.concurrency is None,
    )
    return Scheduler(limiter, RetryPolicy(max_attempts=cfg.max_attempts, timeout=cfg.timeout), seed=cfg.seed)


@contextlib.contextmanager
def collector_paused() -> Iterator[Callable[[], None]]:
    """Python's garbage collector during a run: off while the run loads (modules, datasets, the
    plan: objects that live as long as the run), then those objects frozen out of its scans
    (call the yielded `loaded()`): full collections over them stalled the event loop 25-60 ms,
    twice in a 2,000-request run. Later full collections stay on: turned off for a run, they
    took 0.8 s of stalls out of a 16,441-item run without making it faster, and its peak memory
    rose by a quarter (bench/bench_gc.py). The collector is left as it was found."""
    was_on = gc.isenabled()
    gc.disable()

    def loaded() -> None:
        gc.freeze()
        if was_on:
            gc.enable()

    try:
        yield loaded
    finally:
        gc.unfreeze()
        if was_on:
            gc.enable()


async def run_async(
    cfg: RunConfig,
    model: Model | None = None,
    say: Callable[[str], None] = print,
    progress: ProgressFactory | None = None,
    retain: list[Any] | None = None,
) -> RunResult:
    """The run. Model calls start as soon as the plan and --max-cost allow; the judges load while
    the first requests are out. A bad judge option stops the run before its first line is said
    and its directory written (calls already answered stay cached, as after Ctrl-C).
    `retain`: a caller that ends its process without freeing its objects (the CLI's `exit_now`)
    gets the run's working set appended there instead of freed (~20 ms for 2,000 items)."""
    with collector_paused() as loaded:
        return await _run(cfg, model, say, progress, loaded, retain)


async def _run(cfg: RunConfig, model: Model | None, say: Callable[[str], None], progress: ProgressFactory | None,
               loaded: Callable[[], None], retain: list[Any] | None) -> RunResult:
    tasks, root, datasets = load_datasets(cfg)
    if model is None:
        model = load_run_model(cfg)
    cache = open_cache(cfg.cache)
    out_dir = Path(cfg.out) if cfg.out else default_out_dir(cfg.model)
    planned = plan(datasets, model, cfg)
    keys = list(dict.fromkeys(p.key for p in planned))
    stored = cache.get_many(keys)  # read once: for the plan and the generate step
    n_new = len(keys) - len(stored)
    seconds, why = estimate_seconds(model, cfg.suite, n_new)
    from trustbench.engine.pipeline import Pipeline
    from trustbench.engine.preflight import first_line_or_refuse
    from trustbench.plan import check_prices

    shard = f" [shard {cfg.shard}]" if cfg.shard else ""

    def opening() -> str:  # the plan's first line; raises above --max-cost
        return first_line_or_refuse(planned, stored, cfg, seconds, why) + shard

    check_prices(cfg.price_in, cfg.price_out)
    first_line = opening() if cfg.max_cost is not None else None  # else planned once the first requests are out
    scheduler = make_scheduler(cfg)
    batch_api = getattr(model, "batch_api", False)
    judge_error: dict[str, Any] = {}

    worker: ScoreWorker | None = None
    blob = None  # the report's SampleBlob, made once the first requests are out (with the report package)
    position = {t.name: i for i, t in enumerate(tasks)}

    def finish_score(jt: Any, score: Any) -> Any:  # in a worker thread, while other tasks may still generate
        from trustbench.engine.rundir import sample_text
        from trustbench.engine.score_step import score_one

        out = score_one(jt, cfg.scoring, seed=cfg.seed, n_boot=cfg.n_boot, judge_error=judge_error, score=score)
        out.sample_text = sample_text(out.samples)
        if cfg.report:  # the report's rows of this task, from its lines as samples.jsonl will hold them
            from trustbench.report.sample_rows import sample_rows

            out.sample_rows = sample_rows(json.loads(line) for line in out.sample_text.split("\n") if line)
        return out

    def with_intervals(jt: Any, out: Any, score: Any) -> Any:  # in a worker thread
        from trustbench.engine.score_step import score_task, with_score

        if score is None:  # the worker could not score it: here, where a scorer's error is raised
            score = score_task(jt.task, jt.items, cfg.scoring, seed=cfg.seed, n_boot=cfg.n_boot, judge_error=judge_error)
        return with_score(out, score) or finish_score(jt, score)

    def joined(jt: Any, out: Any) -> Any:  # in a worker thread: the task's rows join the report's blob
        if blob is not None:
            blob.put(position[jt.task.name], out.sample_rows)
        return out

    async def score_one(jt: Any) -> Any:
        if worker is None or not ScoreWorker.wants(len(jt.items), cfg.n_boot):
            return await asyncio.to_thread(lambda: joined(jt, finish_score(jt, None)))
        # the intervals (bootstrap) in the worker process while this one writes the sample lines
        out, score = await asyncio.gather(
            asyncio.to_thread(lambda: finish_score(jt, jt.task.score(jt.items, cfg.scoring))),
            worker.score(jt.task, jt.items, cfg.scoring, seed=cfg.seed, n_boot=cfg.n_boot, judge_error=judge_error))
        return await asyncio.to_thread(lambda: joined(jt, with_intervals(jt, out, score)))

    pipe = Pipeline(tasks, planned, score_one, early=overlaps_generation(cfg))
    # the workers are forked now: before threads, the HTTP session and numpy exist
    if pipe.early and any(ScoreWorker.wants(len(ps), cfg.n_boot) for ps in pipe.by_task.values()):
        worker = ScoreWorker(tasks)
    kinds = planned_judge_kinds(datasets)
    embed_worker = JudgeWorker(cfg.embedder) if pipe.early and wants_worker(cfg.embedder, kinds) else None
    workers = [w for w in (worker, embed_worker) if w is not None]
    relay = LateProgress()
    info: dict[str, Any] = {}
    answered = asyncio.Event()  # the first response (or error) is in: the first requests are out

    def resolved(key: str, gen: Generation) -> None:
        answered.set()
        pipe.resolved(key, gen)

    async def generation() -> Generation:
        if not n_new:
            info["model"] = model.info()
            return await generate(planned, model, cache, scheduler, relay, resolved, stored)
        async with model:
            info["model"] = model.info()
            if batch_api:
                from trustbench.engine.batch_step import generate_batch

                return await generate_batch(planned, model, cache, out_dir, relay, say)  # type: ignore[arg-type]
            return await generate(planned, model, cache, scheduler, relay, resolved, stored)

    loaded()
    t0 = time.monotonic()
    gen_task: asyncio.Future[Generation] | None = None
    try:
        if not batch_api:  # a batch job's own messages come after the first line
            gen_task = asyncio.ensure_future(generation())
            if n_new:  # the judges' imports hold the interpreter lock: load them once the first requests are out
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(FIRST_WAVE_WAIT):
                        await answered.wait()
        judges = await asyncio.to_thread(build_judges, cfg, cache)
        if cfg.report:
            blob = await asyncio.to_thread(_new_sample_blob)
        if embed_worker is not None:
            embed_worker.attach(judges)
        try:
            say(first_line if first_line is not None else opening())
            writer, manifest = await asyncio.to_thread(open_run_dir, cfg, out_dir, root, datasets, model, judges)
            warm = start_warmup(judges, kinds, cfg.report, cfg.model, embedder=embed_worker is None)  # overlap generation
            judge_error.update(judges.error_rates())
            pipe.start(judges, ready=asyncio.ensure_future(asyncio.to_thread(warm.join)))
            with progress(len(planned), n_new) if progress else contextlib.nullcontext() as sink:
                if sink is not None:
                    relay.attach(sink)
                gen = await (gen_task if gen_task is not None else generation())
            gen_seconds = time.monotonic() - t0
            manifest["model"]["info"] = info.get("model")
            replica_stats = getattr(model, "replica_stats", None)
            if replica_stats is not None:
                manifest["replicas"] = cfg.replicas
                manifest["replica_stats"] = replica_stats()
            calls = len(gen.fresh)
            if calls and gen_seconds > 0 and not batch_api:  # a batch's turnaround is no request rate
                save_rate(model, cfg.suite, calls / gen_seconds)
            if cfg.ray:  # heavy offline judges as Ray tasks on the cluster (nothing overlaps under --ray)
                from trustbench.engine.judge_step import judges_on_ray

                await pipe.ready  # type: ignore[misc] - the judge loading, before the judges are sent
                manifest["judges_on_ray"] = judges_on_ray(judges, cfg)
            parts = await pipe.finish(gen)
        finally:
            await pipe.aclose()
            await judges.aclose()
    except BaseException:
        for w in workers:
            w.close(abort=True)
        raise
    finally:
        if gen_task is not None and not gen_task.done():  # a judge failed to load, or Ctrl-C
            gen_task.cancel()
            await asyncio.gather(gen_task, return_exceptions=True)
        for w in workers:
            w.close()
    from trustbench.engine.score_step import assemble

    judged = [jt for jt, _ in parts]
    scored = assemble([s for _, s in parts])
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
    if retain is not None:
        retain.append((datasets, planned, stored, pipe, gen, parts, scored, judges))
    return RunResult(out_dir=out_dir, results=results, failed=failed, model_calls=calls, cache_hits=gen.cache_hits,
                     first_error=first_error, sample_blob=blob)


def _new_sample_blob() -> Any:
    from trustbench.report.sample_rows import SampleBlob

    return SampleBlob()


def run(cfg: RunConfig, model: Model | None = None, say: Callable[[str], None] = print,
        progress: ProgressFactory | None = None, retain: list[Any] | None = None) -> RunResult:
    """With --ray, Ray stays connected for the whole run (connected here, in the calling thread).
    `retain`: see `run_async`."""
    if cfg.ray:
        from trustbench.scale.ray_cluster import ray_session

        from trustbench.engine.config import check_config

        check_config(cfg)  # bad options and a bad spec fail before Ray starts
        model = model or load_run_model(cfg)
        with ray_session(cfg.ray, cfg.replicas, cfg.replica_cpus, cfg.replica_gpus):
            return asyncio.run(run_async(cfg, model, say, progress, retain))
    return asyncio.run(run_async(cfg, model, say, progress, retain))
