"""The command line: exit codes, summary output, Ctrl-C, `tasks`, `score` and its --output."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time

from tbhelp import (
    assert_ok,
    cli,
    integrity,
    outcome,
    planned_prompts,
    read_json,
    run_args,
    stored_prompts,
    write_suite,
)

from trustbench.testing.fakeserver import FakeServer


def test_success_prints_summary_and_exits_0(server, suite, tmp_path):
    r = cli(run_args(server.url, suite, tmp_path / "run", tmp_path / "c.sqlite"))
    assert_ok(r)
    assert "18 items in 3 tasks; 18 need the model" in r.stdout
    assert "items 18 · failed 0 · model calls 18 · cached 0" in r.stdout
    assert f"run directory: {tmp_path / 'run'}" in r.stdout
    assert "safety" in r.stdout  # the dimension table
    assert r.stderr == ""


def test_any_failed_sample_exits_1_with_one_line(server, suite, tmp_path):
    server.state.faults = ["400", "401"]
    r = cli(run_args(server.url, suite, tmp_path / "run", tmp_path / "c.sqlite", "--concurrency", "1"))
    assert r.exit_code == 1
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: 2 item(s) failed (first: safety/")
    assert "items 18 · failed 2" in r.stdout
    assert read_json(tmp_path / "run" / "results.json")["summary"]["failed"] == 2


def test_ctrl_c_exits_130_and_the_rerun_resumes(tmp_path):
    data = write_suite(tmp_path / "data", n_jail=0, n_misuse=200, n_exag=0)
    keys = planned_prompts(data, "safety/misuse")
    cache = tmp_path / "c.sqlite"
    with FakeServer(latency=0.02) as s:
        args = run_args(s.url, data, tmp_path / "run", cache, "--tasks", "safety/misuse", "--concurrency", "2")
        # A shell without job control starts background commands with SIGINT ignored, and Python
        # keeps an inherited SIG_IGN (no KeyboardInterrupt): give the run the default disposition a
        # terminal gives it, whatever started this test run.
        proc = subprocess.Popen([sys.executable, "-m", "trustbench.cli", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONFAULTHANDLER": "1"},
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.monotonic() + 60
        while s.state.completed < 10 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        # Slow the server down (below the run's 0.5 s request timeout) so that the run cannot finish
        # before the signal lands, even on a loaded machine (a 2 s run once completed between the
        # check above and the signal): the remaining ~190 calls now take about 30 s.
        s.state.latency = 0.3
        assert proc.poll() is None and s.state.completed >= 10, "the run ended before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:  # say where it hangs: faulthandler prints every thread's stack
            proc.send_signal(signal.SIGABRT)
            out, err = proc.communicate(timeout=30)
            raise AssertionError(f"no exit 30 s after Ctrl-C; stacks:\n{err[-6000:]}") from None
        s.state.latency = 0.02
        assert proc.returncode == 130, err
        assert "Traceback" not in err and "Unclosed" not in err
        assert [x for x in err.splitlines() if x.strip()] == [
            "interrupted: responses so far are cached; rerun the same command to resume"]
        assert integrity(cache) == "ok"
        stored = stored_prompts(cache, keys)
        assert 0 < len(stored) < 200
        before = s.state.requested.copy()
        assert_ok(cli(args))
        assert not set(s.state.requested - before) & stored
    assert len(outcome(tmp_path / "run")) == 200


def test_tasks_command_lists_sizes(suite):
    r = cli(["tasks", "--suite", "trustllm", "--data", str(suite)])
    assert_ok(r)
    assert "safety/misuse" in r.stdout and "18 items" in r.stdout


def _generations(tmp_path):
    root = tmp_path / "gen"
    (root / "safety").mkdir(parents=True)
    recs = [{"prompt": f"p{i}", "res": "I'm sorry, but I can't help with that." if i % 2 else "Sure, here."}
            for i in range(6)]
    (root / "safety" / "misuse.json").write_text(json.dumps(recs))
    return root


def _score_args(root, tmp_path, *extra):
    return ["score", str(root), "--cache", str(tmp_path / "c.sqlite"), "--refusal-detector", "keywords",
            "--embedder", "none", "--toxicity", "none", *extra]


def test_score_to_stdout_and_to_a_file(tmp_path):
    root = _generations(tmp_path)
    r = cli(_score_args(root, tmp_path))
    assert_ok(r)
    scores = json.loads(r.stdout)
    assert scores["safety"]["misuse"]["rta"]["value"] == 0.5
    out = tmp_path / "scores.json"
    r = cli(_score_args(root, tmp_path, "--output", str(out), "--scoring", "trustllm"))
    assert_ok(r)
    assert json.loads(out.read_text())["safety"]["misuse"]["RtA"] == 0.5
    assert not list(tmp_path.glob(".scores.json.*"))  # no temp file left


def test_score_output_to_a_device_writes_through_it(tmp_path):
    """--output /dev/full fails with ENOSPC and leaves the device node in place (root may write /dev)."""
    root = _generations(tmp_path)
    r = cli(_score_args(root, tmp_path, "--output", "/dev/full"))
    assert r.exit_code == 2 and "No space left on device" in r.stderr
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
    assert not list(__import__("pathlib").Path("/dev").glob(".full.*.tmp"))
    r = cli(_score_args(root, tmp_path, "--output", "/dev/null"))
    assert_ok(r)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_help_works_for_every_command():
    for args in (["--help"], ["run", "--help"], ["score", "--help"], ["tasks", "--help"]):
        r = cli(args)
        assert_ok(r)
        assert "Usage" in r.stdout
