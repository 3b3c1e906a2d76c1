"""`trustbench judge ...`: run a judge on its own (refusal), and audit / calibrate a run's judges."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trustbench.cli_console import console, escape, friendly, one_line
from trustbench.judges import DEFAULT_DETECTOR

judge_app = typer.Typer(add_completion=False, help="Run a judge on its own.")


@judge_app.command("refusal")
@friendly
def judge_refusal_cmd(
    input: Annotated[Path, typer.Argument(help="JSONL with 'prompt' and 'response' per line")],
    output: Annotated[Path, typer.Option("-o", "--output", help="output JSONL")],
    detector: Annotated[str, typer.Option(help="ngram, minilm, keywords, classifier, hf:<model>, llm:<spec> or a plugin")] = DEFAULT_DETECTOR,
    cache: Annotated[str | None, typer.Option(help="SQLite cache for llm: judge calls (default $TRUSTBENCH_CACHE)")] = None,
) -> None:
    """Label responses as refusals; adds refusal, refusal_score and detector to each line.
    Lines with a "label" (refusal/compliance) are scored: agreement, precision, recall."""
    import os

    from trustbench.core.cache import default_cache_dir
    from trustbench.judges.refusal_cli import judge_refusal_command

    path = cache or os.environ.get("TRUSTBENCH_CACHE") or default_cache_dir() / "cache.sqlite"
    console.print(escape(judge_refusal_command(input, output, detector, path)), soft_wrap=True)


@judge_app.command("audit")
@friendly
def judge_audit_cmd(
    run_dir: Annotated[Path, typer.Argument(help="a run directory")],
    output: Annotated[Path, typer.Option("-o", "--output", help="directory for sheet.html and labels.jsonl")],
    n: Annotated[int, typer.Option("--n", help="items to sample")] = 100,
    seed: Annotated[int, typer.Option(help="sampling seed")] = 0,
    force: Annotated[bool, typer.Option(help="overwrite an earlier audit in that directory")] = False,
) -> None:
    """Sample judged items (stratified by task and verdict) into a labelling page and labels.jsonl."""
    from trustbench.calibration.audit import write_audit

    a = write_audit(run_dir, output, n=n, seed=seed, force=force)
    for line in (f"{a.sampled} of {a.judged} judged items sampled", f"sheet: {a.sheet}", f"labels: {a.labels}"):
        console.print(escape(one_line(line)), soft_wrap=True)


@judge_app.command("calibrate")
@friendly
def judge_calibrate_cmd(
    run_dir: Annotated[Path, typer.Argument(help="a run directory")],
    labels: Annotated[Path, typer.Option("--labels", help="filled labels.jsonl (from the audit sheet's export)")],
    labelled_by: Annotated[str | None, typer.Option(help="who produced the labels, recorded in the manifest")] = None,
) -> None:
    """Measure the run's judges on its labels; re-adjust results.json and the report with those rates."""
    from trustbench.calibration.calibrate import calibrate

    for line in calibrate(run_dir, labels, labelled_by=labelled_by).summary():
        console.print(escape(one_line(line)), soft_wrap=True)
