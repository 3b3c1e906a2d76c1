"""The `trustbench` command line (typer). `trustbench.api` mirrors it for Python callers."""

from __future__ import annotations

import atexit
import contextlib
import functools
import inspect
import json
import os
import sys
import threading
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from trustbench.cli_console import console, err_console, escape, friendly, one_line
from trustbench.cli_judge import judge_app
from trustbench.errors import TrustbenchError
from trustbench.judges import DEFAULT_DETECTOR

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Trustworthiness evaluation of LLMs.")
data_app = typer.Typer(add_completion=False, help="Get and check datasets.")
app.add_typer(data_app, name="data")
app.add_typer(judge_app, name="judge")


@app.command()
@friendly
def run(
    model: Annotated[str, typer.Option("--model", "-m", help="openai:<model>, anthropic:<model>, litellm:<model>, local:smollm2, local:PATH.gguf, hf:<id>")] = "local:smollm2",
    suite: Annotated[str, typer.Option(help="builtin (bundled, original) or trustllm (the TrustLLM dataset)")] = "builtin",
    data: Annotated[str | None, typer.Option(help="TrustLLM data directory (default: $TRUSTBENCH_DATA or the download cache)")] = None,
    tasks: Annotated[str | None, typer.Option(help="comma-separated dimensions or tasks, e.g. safety,fairness/preference")] = None,
    limit: Annotated[int | None, typer.Option(help="first N items of each task")] = None,
    sample: Annotated[int | None, typer.Option(help="stratified sample of N items per task")] = None,
    seed: Annotated[int, typer.Option(help="seed for sampling, generation and bootstrap")] = 0,
    out: Annotated[str | None, typer.Option(help="run directory (default runs/<timestamp>-<model>)")] = None,
    cache: Annotated[str | None, typer.Option(help="SQLite cache file (default $TRUSTBENCH_CACHE or ~/.cache/trustbench/cache.sqlite)")] = None,
    base_url: Annotated[str | None, typer.Option(help="server base URL(s), comma-separated (default $OPENAI_BASE_URL / $ANTHROPIC_BASE_URL)")] = None,
    concurrency: Annotated[int | None, typer.Option(help="fixed number of concurrent requests (default: adaptive)")] = None,
    max_concurrency: Annotated[int, typer.Option(help="upper bound for adaptive concurrency")] = 64,
    timeout: Annotated[float, typer.Option(help="seconds per request attempt")] = 300.0,
    max_attempts: Annotated[int, typer.Option(help="attempts per request (transient errors are retried)")] = 6,
    temperature: Annotated[float | None, typer.Option(help="override TrustLLM's per-file temperature")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="override the per-task max_tokens")] = None,
    system_prompt: Annotated[str | None, typer.Option(help="system message (TrustLLM sends none)")] = None,
    scoring: Annotated[str, typer.Option(help="corrected (default) or trustllm")] = "corrected",
    judge: Annotated[str | None, typer.Option(help="LLM judge model spec for judged metrics (e.g. openai:gpt-4o)")] = None,
    judge_base_url: Annotated[str | None, typer.Option(help="base URL for the judge model")] = None,
    refusal_detector: Annotated[str, typer.Option(help="ngram, minilm, keywords, classifier, hf:<model>, llm:<spec>")] = DEFAULT_DETECTOR,
    embedder: Annotated[str, typer.Option(help="minilm (offline) or openai:<embedding model>")] = "minilm",
    toxicity: Annotated[str, typer.Option(help="offline or perspective")] = "offline",
    report: Annotated[bool, typer.Option(help="write report.html")] = True,
    progress: Annotated[bool, typer.Option(help="show the progress bar")] = True,
    shard: Annotated[str | None, typer.Option(help="I/N: run shard I (0-based) of N, split by sampling unit; join with `trustbench merge`")] = None,
    ray: Annotated[str | None, typer.Option(help="serve the model from Ray replicas: a Ray address, auto, or local (a private cluster on 127.0.0.1)")] = None,
    replicas: Annotated[int, typer.Option(help="with --ray: number of model replicas")] = 1,
    replica_cpus: Annotated[float, typer.Option(help="with --ray: CPUs per replica (also its llama.cpp threads)")] = 1.0,
    replica_gpus: Annotated[float, typer.Option(help="with --ray: GPUs per replica")] = 0.0,
    models: Annotated[str | None, typer.Option(help="several model specs (comma-separated, or a file of lines): one run each, then the compare leaderboard")] = None,
    max_prompt_chars: Annotated[int, typer.Option(help="refuse a data file with a longer prompt")] = 100_000,
    max_record_chars: Annotated[int, typer.Option(help="refuse a data file with a longer record (as JSON)")] = 1_000_000,
    max_items: Annotated[int | None, typer.Option(help="refuse a data file with more records")] = None,
    max_cost: Annotated[float | None, typer.Option(help="do not start if the planned cost in USD is higher")] = None,
    price_in: Annotated[float | None, typer.Option(help="USD per million prompt tokens (overrides the price table)")] = None,
    price_out: Annotated[float | None, typer.Option(help="USD per million output tokens (overrides the price table)")] = None,
) -> None:
    """Evaluate a model; writes manifest.json, samples.jsonl, results.json and report.html."""
    from trustbench.engine.runner import RunConfig
    from trustbench.engine.runner import run as run_engine

    cfg = RunConfig(
        model=model, suite=suite, data=data, tasks=tasks, limit=limit, sample=sample, seed=seed, out=out,
        cache=cache, base_url=base_url, concurrency=concurrency, max_concurrency=max_concurrency,
        timeout=timeout, max_attempts=max_attempts, temperature=temperature, max_tokens=max_tokens,
        system_prompt=system_prompt, scoring=scoring, judge=judge, judge_base_url=judge_base_url,
        refusal_detector=refusal_detector, embedder=embedder, toxicity=toxicity, report=report,
        progress=progress and sys.stderr.isatty(), shard=shard, ray=ray, replicas=replicas,
        replica_cpus=replica_cpus, replica_gpus=replica_gpus, max_prompt_chars=max_prompt_chars,
        max_record_chars=max_record_chars, max_items=max_items, max_cost=max_cost, price_in=price_in,
        price_out=price_out,
    )
    bar = None
    if cfg.progress:
        from trustbench.cli_progress import Progress

        label = "generating" + (f" · shard {shard}" if shard else "") + (f" · {replicas} replicas" if ray else "")
        bar = functools.partial(Progress, label=label)

    def one(c: RunConfig, retain: list[Any] | None = None):
        res = run_engine(c, say=lambda s: console.print(escape(one_line(s)), soft_wrap=True), progress=bar, retain=retain)
        if c.report:
            from trustbench.report import write_report

            write_report(res.out_dir, fmt="html", sample_blob=res.sample_blob)
        print_summary(res.results)
        return res

    if models:
        from trustbench.engine.multi import parse_models, run_models
        from trustbench.report.commands import compare_command

        all_results, base = run_models(cfg, parse_models(models), one)
        comparison = compare_command([r.out_dir for r in all_results], base / "comparison")
        console.print(escape((comparison / "leaderboard.md").read_text(encoding="utf-8")))
        console.print(f"comparison: {escape(str(comparison))}")
        failed = [r for r in all_results if r.failed]
        if failed:
            err_console.print(escape(one_line(f"error: item(s) failed in {', '.join(str(r.out_dir) for r in failed)}; rerun to retry them")), soft_wrap=True)
            raise typer.Exit(1)
        return
    result = one(cfg, retain=EXIT_HELD)
    console.print(f"run directory: {escape(str(result.out_dir))}")
    if (result.out_dir / "report.html").exists():
        console.print(f"report: {escape(str(result.out_dir / 'report.html'))}")
    if result.failed:
        first = f" (first: {result.first_error})" if result.first_error else ""
        err_console.print(
            escape(one_line(f"error: {result.failed} item(s) failed{first}; see 'error' in samples.jsonl (rerun to retry them)")),
            soft_wrap=True,
        )
        raise typer.Exit(1)


def plan_cmd(**options: Any) -> None:
    """Show what `run` with the same options would do: items, model and judge calls, tokens, time, cost."""
    from trustbench.engine.preflight import plan_run
    from trustbench.engine.runner import RunConfig
    from trustbench.plan import check_max_cost

    models = options.pop("models", None)
    specs = [options["model"]]
    if models:
        from trustbench.engine.multi import parse_models

        specs = parse_models(models)
    for spec in specs:
        p = plan_run(RunConfig(**{**options, "model": spec}))
        for line in p.lines():
            console.print(escape(one_line(line)), soft_wrap=True)
        check_max_cost(p, options.get("max_cost"))


plan_cmd.__signature__ = inspect.signature(run, eval_str=True)  # type: ignore[attr-defined]  # run's options
app.command("plan")(friendly(plan_cmd))


def print_summary(results: dict[str, Any]) -> None:
    from rich.table import Table

    dims = results.get("dimensions") or {}
    table = Table(title="Trust dimensions (higher is more trustworthy)")
    for col in ("dimension", "score", "95% CI", "metrics"):
        table.add_column(col)
    for dim, d in dims.items():
        ci = d.get("ci")
        table.add_row(
            dim,
            "n/a" if d.get("score") is None else f"{d['score']:.3f}",
            "" if not ci else f"[{ci[0]:.3f}, {ci[1]:.3f}]",
            str(d.get("n_metrics", "")),
        )
    if dims:
        console.print(table)
    s = results.get("summary", {})
    console.print(
        f"items {s.get('items')} · failed {s.get('failed')} · model calls {s.get('model_calls')} · cached {s.get('cache_hits')}"
    )
    for r in s.get("replicas") or []:
        console.print(f"replica {r['replica']}: {r['completed']} answered ({r.get('throughput_per_s')}/s) · "
                      f"{r['errors']} connection errors · {r['restarts']} restarts")


@app.command("tasks")
@friendly
def tasks_cmd(
    suite: Annotated[str, typer.Option(help="count items of this suite")] = "builtin",
    data: Annotated[str | None, typer.Option(help="TrustLLM data directory")] = None,
) -> None:
    """List the tasks (built-in and plugin) with their dataset sizes and where each comes from."""
    from rich.table import Table

    from trustbench.data.loader import SUITES, read_json_records, suite_root
    from trustbench.tasks.registry import registered

    if suite not in SUITES:
        raise TrustbenchError(f"--suite: unknown suite {suite!r} (choose from {', '.join(SUITES)})")
    try:
        root = suite_root(suite, data)
    except TrustbenchError as e:
        root = None
        err_console.print(f"note: {escape(str(e))}; sizes not shown")
    table = Table(title=f"trustbench tasks ({suite} suite)")
    for col in ("task", "items", "temperature", "description", "source"):
        table.add_column(col, overflow="fold")
    total = 0
    tasks = registered()
    for r in tasks.values():
        t, size = r.task, ""
        if root is not None and (root / t.dimension / t.file).is_file():
            n = len(read_json_records(root / t.dimension / t.file)[0])
            total += n
            size = str(n)
        table.add_row(escape(t.name), size, f"{t.temperature:g}", escape(t.description), escape(r.source))
    console.print(table)
    plugins = sum(r.source != "builtin" for r in tasks.values())
    console.print(f"{len(tasks)} tasks ({plugins} from plugins), {total} items")


@app.command()
@friendly
def score(
    directory: Annotated[Path, typer.Argument(help="TrustLLM generation_results folder (<dimension>/<file>.json with 'res'), or an Inspect AI log (.eval/.json)")],
    scoring: Annotated[str, typer.Option(help="corrected (default) or trustllm")] = "corrected",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="write scores JSON here (default: stdout)")] = None,
    judge: Annotated[str | None, typer.Option(help="LLM judge model spec for records without a frozen eval_res")] = None,
    judge_base_url: Annotated[str | None, typer.Option(help="base URL for the judge model")] = None,
    refusal_detector: Annotated[str, typer.Option(help="detector for records without eval_res")] = DEFAULT_DETECTOR,
    embedder: Annotated[str, typer.Option()] = "minilm",
    toxicity: Annotated[str, typer.Option()] = "offline",
    cache: Annotated[str | None, typer.Option(help="SQLite cache for judge calls")] = None,
    seed: Annotated[int, typer.Option()] = 0,
    data: Annotated[str | None, typer.Option(help="with an Inspect log: the TrustLLM data directory holding its records")] = None,
    tasks: Annotated[str | None, typer.Option(help="with an Inspect log: the tasks it evaluates (default: all)")] = None,
) -> None:
    """Score existing TrustLLM generations or an Inspect AI log of TrustLLM tasks; frozen verdicts
    (eval_res, embedding, toxicity) are reused."""
    import tempfile

    from trustbench.data.inspect_log import inspect_generation_dir, is_inspect_log
    from trustbench.engine.config import open_cache
    from trustbench.engine.runner import RunConfig, build_judges
    from trustbench.engine.score import score_dir

    cfg = RunConfig(judge=judge, judge_base_url=judge_base_url, refusal_detector=refusal_detector,
                    embedder=embedder, toxicity=toxicity, scoring=scoring)
    c = open_cache(cache)
    with tempfile.TemporaryDirectory() as tmp:
        if is_inspect_log(directory):
            directory = inspect_generation_dir(directory, data, tasks, Path(tmp))
        scores = score_dir(directory, scoring, build_judges(cfg, c), seed=seed)
    text = json.dumps(scores, indent=2, ensure_ascii=False)
    if output:
        from trustbench.engine.rundir import atomic_write

        atomic_write(output, text + "\n")
        console.print(f"scores: {escape(str(output))}")
    else:
        sys.stdout.write(text + "\n")


@app.command()
@friendly
def report(
    run_dir: Annotated[Path, typer.Argument(help="a run directory")],
    format: Annotated[str, typer.Option("--format", "-f", help="html, md or json")] = "html",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="output file (default: inside the run directory)")] = None,
) -> None:
    """Render a run's report (self-contained HTML, Markdown or JSON)."""
    from trustbench.report.commands import report_command

    path = report_command(run_dir, fmt=format, out=output)
    console.print(f"report: {escape(str(path))}")


@app.command()
@friendly
def compare(
    run_dirs: Annotated[list[Path], typer.Argument(help="two or more run directories")],
    output: Annotated[Path, typer.Option("-o", "--output", help="output directory")] = Path("comparison"),
    allow_different_data: Annotated[bool, typer.Option(help="compare runs whose dataset files differ")] = False,
) -> None:
    """Paired comparisons on shared items, with multiple-comparison control, and a leaderboard."""
    from trustbench.report.commands import compare_command

    path = compare_command(run_dirs, output, allow_different_data=allow_different_data)
    console.print(f"comparison: {escape(str(path))}")


@app.command()
@friendly
def merge(
    shard_dirs: Annotated[list[Path], typer.Argument(help="the run directories of shards 0/N ... N-1/N of one plan")],
    out: Annotated[Path, typer.Option("--out", "-o", help="the merged run directory")],
    report: Annotated[bool, typer.Option(help="write report.html")] = True,
) -> None:
    """Join the shards of one run (`run --shard I/N`) into one run directory, scored as a whole."""
    from trustbench.engine.merge import merge_runs

    results = merge_runs(shard_dirs, out, argv=sys.argv)
    if report:
        from trustbench.report import write_report

        write_report(out, fmt="html")
    print_summary(results)
    console.print(f"run directory: {escape(str(out))}")


@app.command()
@friendly
def export(
    run_dir: Annotated[Path, typer.Argument(help="a run directory")],
    output: Annotated[Path, typer.Option("-o", "--output", help="output file (.json or .eval)")],
    format: Annotated[str, typer.Option("--format", "-f", help="inspect (an Inspect AI eval log)")] = "inspect",
) -> None:
    """Export a run for other tools: an Inspect AI eval log (`inspect view` opens it)."""
    if format != "inspect":
        raise TrustbenchError(f"--format: unknown export format {format!r} (choose from inspect)")
    from trustbench.report.inspect_export import export_inspect

    path = export_inspect(run_dir, output)
    console.print(f"inspect log: {escape(str(path))}")



@data_app.command("download")
@friendly
def data_download(
    dest: Annotated[Path | None, typer.Option(help="destination (default ~/.cache/trustbench/data/trustllm)")] = None,
    repo: Annotated[str, typer.Option(help="Hugging Face dataset repository")] = "TrustLLM/TrustLLM-dataset",
    revision: Annotated[str | None, typer.Option(help="git revision on the hub")] = None,
    endpoint: Annotated[str | None, typer.Option(help="hub endpoint or mirror URL (default $HF_ENDPOINT)")] = None,
) -> None:
    """Download the TrustLLM dataset from the Hugging Face hub and verify it."""
    from trustbench.data.download import download_trustllm

    report = download_trustllm(dest=dest, repo=repo, revision=revision, endpoint=endpoint)
    console.print(escape(report))


@data_app.command("verify")
@friendly
def data_verify(directory: Annotated[Path, typer.Argument(help="TrustLLM data directory")]) -> None:
    """Check that a TrustLLM data directory has all 24 files with valid records and the expected counts."""
    from trustbench.data.download import verify_trustllm

    console.print(escape(verify_trustllm(directory)))


def main() -> None:
    """Entry point; command-line usage errors are one line too (not a usage box)."""
    try:
        _main()
    except SystemExit as e:
        exit_now(e.code)
    exit_now(0)


EXIT_HELD: list[Any] = []  # a run's working set, held until `exit_now` instead of freed


def exit_now(code: object) -> NoReturn:
    """End the process as mypy does: run the exit handlers, flush, then `os._exit`, skipping the
    interpreter's teardown (0.1-0.2 s freeing every module's objects after a run). A normal exit
    under a profiler or tracer (cProfile, coverage write their data after `main` returns), while
    another non-daemon thread still runs (Python would join it), or for a non-integer code."""
    code = 0 if code is None else code
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon and t.is_alive()]
    if others or not isinstance(code, int) or sys.gettrace() is not None or sys.getprofile() is not None:
        raise SystemExit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def _main() -> None:
    try:
        from typer._click import exceptions as click_exc  # typer vendors click
    except ImportError:  # older typer uses click itself
        from click import exceptions as click_exc

    try:
        rv = app(standalone_mode=False)
    except click_exc.NoArgsIsHelpError:
        raise SystemExit(0) from None
    except click_exc.ClickException as e:  # bad flag or value
        hint = f" (see `{e.ctx.command_path} --help`)" if getattr(e, "ctx", None) else ""
        err_console.print(f"error: {escape(e.format_message())}{hint}", soft_wrap=True)
        raise SystemExit(e.exit_code) from None
    except typer.Abort:
        err_console.print("interrupted")
        raise SystemExit(130) from None
    raise SystemExit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":
    main()
