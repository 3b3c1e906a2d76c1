"""What makes a run start and end fast: group-committed cache writes, a registry that loads only
the selected dimensions, rich imported at the first output, the collector paused while a run
loads, a short repr of the run's result, and the CLI's exit without interpreter teardown. Speed
itself is measured in bench/ (bench_timeline.py), not here."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys

import pytest
from tbhelp import cli, cli_proc, read_json, run_args, write_suite

from trustbench.core.cache import Cache, GroupWriter
from trustbench.engine.runner import collector_paused
from trustbench.errors import TrustbenchError


def test_group_writer_commits_every_row_in_fewer_transactions(tmp_path):
    cache = Cache(tmp_path / "c.sqlite")
    groups: list[int] = []
    put_many = cache.put_many

    def counted(rows, kind="model"):
        groups.append(len(rows))
        put_many(rows, kind)

    cache.put_many = counted  # type: ignore[method-assign]

    async def main() -> None:
        writer = GroupWriter(cache)
        try:
            await asyncio.gather(*(writer.put(f"k{i}", {"text": str(i)}) for i in range(300)))
        finally:
            writer.close()

    asyncio.run(main())
    assert sum(groups) == 300 and len(groups) < 300  # rows that arrive during a commit share the next one
    assert groups[0] == 1  # the first row is not held back waiting for company
    stored = cache.get_many([f"k{i}" for i in range(300)])
    assert len(stored) == 300 and stored["k7"] == {"text": "7"}


def test_group_writer_raises_a_failed_commit_to_each_row_of_its_group(tmp_path):
    cache = Cache(tmp_path / "c.sqlite")

    def broken(rows, kind="model"):
        raise TrustbenchError(f"cache {tmp_path}: write failed (disk full)")

    cache.put_many = broken  # type: ignore[method-assign]

    async def main() -> list[BaseException | None]:
        writer = GroupWriter(cache)
        try:
            return await asyncio.gather(*(writer.put(f"k{i}", {}) for i in range(5)), return_exceptions=True)
        finally:
            writer.close()

    out = asyncio.run(main())
    assert all(isinstance(e, TrustbenchError) and "disk full" in str(e) for e in out)


def test_group_writer_close_commits_rows_not_sent_yet(tmp_path):
    cache = Cache(tmp_path / "c.sqlite")

    async def main() -> None:
        writer = GroupWriter(cache)
        first = asyncio.ensure_future(writer.put("a", {"n": 1}))  # sent at once
        later = [asyncio.ensure_future(writer.put(k, {"n": 2})) for k in ("b", "c")]  # wait for "a"'s commit
        await asyncio.sleep(0)
        for t in (first, *later):  # Ctrl-C: the callers are gone
            t.cancel()
        await asyncio.gather(first, *later, return_exceptions=True)
        writer.close()

    asyncio.run(main())
    assert set(cache.get_many(["a", "b", "c"])) == {"a", "b", "c"}


def test_selecting_a_dimension_imports_only_its_task_modules():
    code = (
        "import sys\n"
        "from trustbench.tasks.registry import select_tasks, all_tasks\n"
        "names = [t.name for t in select_tasks('safety/misuse,safety')]\n"
        "loaded = sorted({m.split('.')[2] for m in sys.modules if m.startswith('trustbench.tasks.') and m.count('.') >= 3})\n"
        "numpy = 'numpy' in sys.modules\n"
        "full = [t.name for t in all_tasks().values() if t.dimension == 'safety']\n"
        "print(names, loaded, numpy, full)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == (f"{['safety/jailbreak', 'safety/misuse', 'safety/exaggerated_safety']} ['safety'] False "
                           f"{['safety/jailbreak', 'safety/misuse', 'safety/exaggerated_safety']}")


def test_a_selector_outside_the_builtin_dimensions_still_names_the_unknown_part():
    from trustbench.tasks.registry import select_tasks

    with pytest.raises(TrustbenchError, match="unknown task or dimension 'nosuch'"):
        select_tasks("safety,nosuch")
    with pytest.raises(TrustbenchError, match="unknown task or dimension 'safety/nosuch'"):
        select_tasks("safety/nosuch")


def test_collector_paused_while_loading_then_frozen_and_restored():
    assert gc.isenabled() and gc.get_freeze_count() == 0
    with collector_paused() as loaded:
        assert not gc.isenabled()
        kept = [object() for _ in range(10)]
        loaded()
        assert gc.isenabled() and gc.get_freeze_count() > 0
    assert gc.isenabled() and gc.get_freeze_count() == 0 and kept
    gc.disable()
    try:  # a caller that had it off finds it off
        with collector_paused() as loaded:
            loaded()
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_run_leaves_the_collector_as_it_found_it(server, tmp_path):
    suite = write_suite(tmp_path / "data", n=2)
    r = cli(run_args(server.url, suite, tmp_path / "run", tmp_path / "c.sqlite"))
    assert r.exit_code == 0, r.stdout
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_the_cli_process_exits_with_its_status_and_all_its_output(server, tmp_path):
    suite = write_suite(tmp_path / "data", n=3)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # stdout to a pipe is block-buffered
    ok = cli_proc(run_args(server.url, suite, tmp_path / "run", tmp_path / "c.sqlite"), env=env)
    assert ok.returncode == 0, ok.stderr
    out = ok.stdout.decode()
    assert out.rstrip().splitlines()[-1].startswith("run directory:")  # the last line too: nothing buffered is lost at the exit
    assert read_json(tmp_path / "run" / "manifest.json")["ended_at"]
    assert json.loads((tmp_path / "run" / "samples.jsonl").read_text().splitlines()[0])["task"]
    bad = cli_proc(["run", "--tasks", "nosuch", "--suite", "trustllm", "--data", str(suite)])
    assert bad.returncode != 0 and b"unknown task or dimension 'nosuch'" in bad.stderr
    usage = cli_proc(["run", "--no-such-flag"])
    assert usage.returncode == 2 and b"--no-such-flag" in usage.stderr


def test_the_cli_imports_rich_at_its_first_output_not_before():
    code = (
        "import sys\n"
        "from trustbench.cli_console import console, escape\n"
        "import trustbench.cli\n"
        "before = 'rich' in sys.modules\n"
        "console.print(escape('[b]x[/b]'))\n"
        "print(before, 'rich.console' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["[b]x[/b]", "False True"]  # escaped markup shown as it is


def test_the_run_result_repr_stays_short_however_large_the_run():
    """asyncio.run writes the run task's repr, result included, when it restores the Ctrl-C
    handler: a repr of every metric and sample row cost ~45 ms at the end of a 2,000-item run."""
    from pathlib import Path

    from trustbench.engine.config import RunResult

    big = RunResult(Path("runs/x"), {"summary": {"items": 16441}, "tasks": {f"t{i}": {"m": list(range(50))} for i in range(500)}},
                    failed=2, model_calls=16000, cache_hits=441, sample_blob=[list(range(1000))] * 24)
    assert repr(big) == "RunResult(out_dir='runs/x', items=16441, failed=2, model_calls=16000, cache_hits=441)"
