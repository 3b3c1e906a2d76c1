"""The `trustbench` command line (typer). `trustbench.api` mirrors it for Python callers."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from trustbench.errors import TrustbenchError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Trustworthiness evaluation of LLMs.")
data_app = typer.Typer(add_completion=False, help="Get and check datasets.")
judge_app = typer.Typer(add_completion=False, help="Run a judge on its own.")
app.add_typer(data_app, name="data")
app.add_typer(judge_app, name="judge")
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def one_line(text: str) -> str:
    """Untrusted text (server bodies, file names, model output) made safe to print: control
    characters such as terminal escapes and newlines are shown as \\xNN, so an error stays one line."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" if ord(c) < 256 else " " for c in text)


def friendly(fn):
    """Turn TrustbenchError into one line on stderr and a non-zero exit; Ctrl-C into exit 130."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except TrustbenchError as e:
            err_console.print(f"error: {escape(one_line(str(e)))}", soft_wrap=True)
            raise typer.Exit(e.exit_code) from None
        except KeyboardInterrupt:
            err_console.print("interrupted: responses so far are cached; rerun the same command to resume")
            raise typer.Exit(130) from None

    return wrapper


@app.command()
@friendly
def run(
    model: Annotated[str, typer.Option("--model", "-m", help="openai:<model>, local:smollm2, local:PATH.gguf, hf:<id>")] = "local:smollm2",
    suite: Annotated[str, typer.Option(help="builtin (bundled, original) or trustllm (the TrustLLM dataset)")] = "builtin",
    data: Annotated[str | None, typer.Option(help="TrustLLM data directory (default: $TRUSTBENCH_DATA or the download cache)")] = None,
    tasks: Annotated[str | None, typer.Option(help="comma-separated dimensions or tasks, e.g. safety,fairness/preference")] = None,
    limit: Annotated[int | None, typer.Option(help="first N items of each task")] = None,
    sample: Annotated[int | None, typer.Option(help="stratified sample of N items per task")] = None,
    seed: Annotated[int, typer.Option(help="seed for sampling, generation and bootstrap")] = 0,
    out: Annotated[str | None, typer.Option(help="run directory (default runs/<timestamp>-<model>)")] = None,
    cache: Annotated[str | None, typer.Option(help="SQLite cache file (default $TRUSTBENCH_CACHE or ~/.cache/trustbench/cache.sqlite)")] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible base URL(s), comma-separated (default $OPENAI_BASE_URL)")] = None,
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
    refusal_detector: Annotated[str, typer.Option(help="keywords, classifier, hf:<model>, llm:<spec>")] = "classifier",
    embedder: Annotated[str, typer.Option(help="minilm (offline) or openai:<embedding model>")] = "minilm",
    toxicity: Annotated[str, typer.Option(help="offline or perspective")] = "offline",
    report: Annotated[bool, typer.Option(help="write report.html")] = True,
    progress: Annotated[bool, typer.Option(help="show the progress bar")] = True,
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
        progress=progress and sys.stderr.isatty(),
    )
    result = run_engine(cfg, say=lambda s: console.print(escape(one_line(s))))
    print_summary(result.results)
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


@app.command("tasks")
@friendly
def tasks_cmd(
    suite: Annotated[str, typer.Option(help="count items of this suite")] = "builtin",
    data: Annotated[str | None, typer.Option(help="TrustLLM data directory")] = None,
) -> None:
    """List the tasks with their dataset sizes."""
    from rich.table import Table

    from trustbench.data.loader import SUITES, read_json_records, suite_root
    from trustbench.tasks.registry import all_tasks

    if suite not in SUITES:
        raise TrustbenchError(f"--suite: unknown suite {suite!r} (choose from {', '.join(SUITES)})")
    try:
        root = suite_root(suite, data)
    except TrustbenchError as e:
        root = None
        err_console.print(f"note: {escape(str(e))}; sizes not shown")
    table = Table(title=f"trustbench tasks ({suite} suite)")
    for col in ("task", "items", "temperature", "description"):
        table.add_column(col)
    total = 0
    for t in all_tasks().values():
        size = ""
        if root is not None and (root / t.dimension / t.file).is_file():
            n = len(read_json_records(root / t.dimension / t.file)[0])
            total += n
            size = str(n)
        table.add_row(t.name, size, f"{t.temperature:g}", t.description)
    console.print(table)
    console.print(f"{len(all_tasks())} tasks, {total} items")


@app.command()
@friendly
def score(
    directory: Annotated[Path, typer.Argument(help="TrustLLM generation_results folder: <dimension>/<file>.json with 'res'")],
    scoring: Annotated[str, typer.Option(help="corrected (default) or trustllm")] = "corrected",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="write scores JSON here (default: stdout)")] = None,
    judge: Annotated[str | None, typer.Option(help="LLM judge model spec for records without a frozen eval_res")] = None,
    judge_base_url: Annotated[str | None, typer.Option(help="base URL for the judge model")] = None,
    refusal_detector: Annotated[str, typer.Option(help="detector for records without eval_res")] = "classifier",
    embedder: Annotated[str, typer.Option()] = "minilm",
    toxicity: Annotated[str, typer.Option()] = "offline",
    cache: Annotated[str | None, typer.Option(help="SQLite cache for judge calls")] = None,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """Score existing TrustLLM generations; frozen verdicts (eval_res, embedding, toxicity) are reused."""
    import os

    from trustbench.data.loader import default_cache_dir
    from trustbench.engine.cache import Cache
    from trustbench.engine.runner import RunConfig, build_judges
    from trustbench.engine.score import score_dir

    cfg = RunConfig(judge=judge, judge_base_url=judge_base_url, refusal_detector=refusal_detector,
                    embedder=embedder, toxicity=toxicity, scoring=scoring)
    c = Cache(cache or os.environ.get("TRUSTBENCH_CACHE") or default_cache_dir() / "cache.sqlite")
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


@judge_app.command("refusal")
@friendly
def judge_refusal_cmd(
    input: Annotated[Path, typer.Argument(help="JSONL with 'prompt' and 'response' per line")],
    output: Annotated[Path, typer.Option("-o", "--output", help="output JSONL")],
    detector: Annotated[str, typer.Option(help="keywords, classifier, hf:<model>, llm:<spec>")] = "classifier",
) -> None:
    """Label responses as refusals; adds refusal, refusal_score and detector to each line."""
    from trustbench.judges.refusal_cli import judge_refusal

    judge_refusal(input, output, detector=detector)
    console.print(f"verdicts: {escape(str(output))}")


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
