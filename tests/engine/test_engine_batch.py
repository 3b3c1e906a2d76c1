"""`openai-batch:<model>` against a local fake Batch API: results, shared cache, resume without
paying twice, failed requests, bad key."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from tbhelp import assert_ok, cli, metrics_of, outcome, popen_cli, run_args, write_suite

from trustbench.testing.fakebatch import FakeBatchServer
from trustbench.testing.fakeserver import FakeServer


@pytest.fixture(autouse=True)
def fast_poll(monkeypatch):
    monkeypatch.setenv("TRUSTBENCH_BATCH_POLL_S", "0.02")


def _wait(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_batch_run_equals_interactive_run_and_shares_its_cache(tmp_path):
    data = write_suite(tmp_path / "data", 8)
    with FakeServer(latency=0.001) as chat:
        assert_ok(cli(run_args(chat.url, data, tmp_path / "chat", tmp_path / "chat.sqlite")))
    cache = tmp_path / "c.sqlite"
    with FakeBatchServer(polls_to_complete=3) as b:
        assert_ok(cli(run_args(b.url, data, tmp_path / "batch", cache, model="openai-batch:fake")))
        assert (b.state.uploads, b.state.created, b.state.requests_submitted) == (1, 1, 24)
    assert metrics_of(tmp_path / "batch") == metrics_of(tmp_path / "chat")
    assert outcome(tmp_path / "batch") == outcome(tmp_path / "chat")
    state = json.loads((tmp_path / "batch" / "batches.json").read_text())
    assert [(e["batch_id"], e["status"], e["done"]) for e in state] == [("batch_1", "completed", True)]
    with FakeServer(latency=0.001) as chat2:  # the interactive backend finds every answer cached
        assert_ok(cli(run_args(chat2.url, data, tmp_path / "again", cache)))
        assert chat2.state.requests == 0


def test_killed_driver_resumes_polling_instead_of_paying_twice(tmp_path):
    data = write_suite(tmp_path / "data", 5)
    cache = tmp_path / "c.sqlite"
    with FakeBatchServer(hold=True) as b:
        args = run_args(b.url, data, tmp_path / "run", cache, model="openai-batch:fake")
        proc = popen_cli(args)
        try:
            _wait(lambda: b.state.polls >= 2 or proc.poll() is not None, 60, "the batch to be polled")
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait(10)
        assert proc.returncode == -signal.SIGKILL
        assert json.loads((tmp_path / "run" / "batches.json").read_text())[0]["batch_id"] == "batch_1"
        b.state.hold = False
        r = cli(args)
        assert_ok(r)
        assert "resuming batch batch_1" in r.stdout
        # a re-run into a new run directory finds the batch through the cache as well
        assert_ok(cli(run_args(b.url, data, tmp_path / "run2", cache, model="openai-batch:fake")))
        assert (b.state.uploads, b.state.created, b.state.requests_submitted) == (1, 1, 15)
    assert len(outcome(tmp_path / "run")) == 15 and all(s["response"] for s in outcome(tmp_path / "run").values())


def test_failed_requests_are_reported_and_only_they_are_resubmitted(tmp_path):
    data = write_suite(tmp_path / "data", 6)
    cache = tmp_path / "c.sqlite"
    with FakeBatchServer(fail_prompts=("REFUSE",)) as b:
        args = run_args(b.url, data, tmp_path / "run", cache, model="openai-batch:fake")
        r = cli(args)
        assert r.exit_code == 1 and "item(s) failed" in r.stderr
        failed = [s for s in outcome(tmp_path / "run").values() if s["response"] is None]
        assert len(failed) == 3 and all("batch request failed" in s["error"] for s in failed)
        b.state.fail_prompts = ()
        assert_ok(cli(args))
        assert (b.state.created, b.state.requests_submitted) == (2, 18 + 3)
    with FakeBatchServer(expire=True) as b:
        r = cli(run_args(b.url, data, tmp_path / "exp", tmp_path / "e.sqlite", model="openai-batch:fake"))
        assert r.exit_code == 1
        assert all("ended 'expired'" in s["error"] for s in outcome(tmp_path / "exp").values())


def test_bad_key_is_one_line_and_never_shown(tmp_path, monkeypatch):
    data = write_suite(tmp_path / "data", 2)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong-secret-123456")
    with FakeBatchServer(api_key="sk-right") as b:
        r = cli(run_args(b.url, data, tmp_path / "run", tmp_path / "c.sqlite", model="openai-batch:fake"))
    assert r.exit_code != 0 and "HTTP 401" in r.stderr and "OPENAI_API_KEY" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert "sk-wrong-secret" not in r.stdout + r.stderr
    assert "sk-wrong-secret" not in "".join(p.read_text(errors="replace") for p in (tmp_path / "run").iterdir())
