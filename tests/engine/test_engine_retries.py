"""Retries, Retry-After, timeouts and permanent errors against the fake OpenAI-compatible server."""

from __future__ import annotations

import asyncio
import time

import pytest
from tbhelp import assert_ok, cli, read_json, read_samples, run_args

from trustbench.core.scheduler import AdaptiveLimiter, RetryPolicy, Scheduler
from trustbench.models.base import GenParams, ModelError
from trustbench.models.openai_http import OpenAIChatModel
from trustbench.testing.fakeserver import FakeServer

TRANSIENT = ["429", "429-bare", "500", "502", "503", "hang", "drop", "bad-json", "empty-choices", "truncated", "html"]


@pytest.mark.parametrize("fault", TRANSIENT)
def test_transient_fault_is_retried(fault, server, suite, tmp_path):
    """429 / 5xx / hang (timeout) / connection drop / malformed 200s: retried, the item is answered."""
    server.state.faults = [fault]
    r = cli(run_args(server.url, suite, tmp_path / "run", tmp_path / "c.sqlite",
                     "--tasks", "safety/misuse", "--limit", "3", "--concurrency", "1", "--timeout", "0.3"))
    assert_ok(r)
    samples = read_samples(tmp_path / "run")
    assert len(samples) == 3 and all(s["response"] and s["error"] is None for s in samples)
    assert server.state.requests == 4  # three items, one retry
    assert server.state.completed == 3
    summary = read_json(tmp_path / "run" / "results.json")["summary"]
    assert summary["retries"] == 1 and summary["failed"] == 0 and summary["model_calls"] == 3


def test_several_faults_in_a_row_are_retried(server, suite, tmp_path):
    server.state.faults = ["503", "drop", "429", "500", "hang"]
    r = cli(run_args(server.url, suite, tmp_path / "run", tmp_path / "c.sqlite", "--tasks", "safety/misuse",
                     "--limit", "1", "--timeout", "0.3"))
    assert_ok(r)
    assert server.state.requests == 6 and server.state.completed == 1
    assert read_json(tmp_path / "run" / "results.json")["summary"]["retries"] == 5


async def test_retry_after_is_honoured():
    """A 429 with Retry-After: 0.4 delays the retry by at least 0.4 s even though backoff is ~1 ms."""
    sched = Scheduler(AdaptiveLimiter(initial=1, adaptive=False), RetryPolicy(base_delay=0.001, timeout=2), seed=1)
    for faults, lower, upper in ((["429"], 0.4, 1.5), (["429-bare"], 0.0, 0.4)):
        with FakeServer(faults=list(faults), retry_after=0.4) as s:
            model = OpenAIChatModel("fake", [s.url])
            async with model:
                t0 = time.monotonic()
                out = await sched.call(lambda m=model: m.complete([{"role": "user", "content": "hi"}], GenParams()))
                elapsed = time.monotonic() - t0
            assert out.text.startswith("Sure.")
            assert s.state.requests == 2
            assert lower <= elapsed < upper, (faults, elapsed)


async def test_retry_after_from_model_error_sets_the_delay():
    calls: list[float] = []

    async def flaky():
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise ModelError("rate limited", transient=True, retry_after=0.3, overload=True, status=429)
        return "ok"

    sched = Scheduler(AdaptiveLimiter(initial=1), RetryPolicy(base_delay=0.001), seed=0)
    assert await sched.call(flaky) == "ok"
    assert calls[1] - calls[0] >= 0.3


def test_400_is_not_retried_and_recorded_while_the_run_goes_on(server, suite, tmp_path):
    server.state.faults = ["400"]
    out = tmp_path / "run"
    r = cli(run_args(server.url, suite, out, tmp_path / "c.sqlite", "--tasks", "safety/misuse", "--limit", "4",
                     "--concurrency", "1"))
    assert r.exit_code == 1, r.stderr
    assert "Traceback" not in r.stderr
    err_lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(err_lines) == 1 and "1 item(s) failed" in err_lines[0] and "HTTP 400" in err_lines[0]
    assert server.state.requests == 4  # the 400 was not retried
    samples = read_samples(out)
    failed = [s for s in samples if s["response"] is None]
    assert len(samples) == 4 and len(failed) == 1
    assert "HTTP 400" in failed[0]["error"] and "gave up" not in failed[0]["error"]
    assert all(s["error"] is None and s["response"] for s in samples if s is not failed[0])
    results = read_json(out / "results.json")
    assert results["summary"]["failed"] == 1 and results["summary"]["retries"] == 0
    task = results["tasks"]["safety/misuse"]
    assert task["n_items"] == 4 and task["n_failed"] == 1
    rta = task["metrics"]["rta"]
    assert rta["total"] == 4 and rta["n"] == 3 and rta["coverage"] == pytest.approx(0.75)


def test_failed_item_is_retried_on_rerun(server, suite, tmp_path):
    """Failures are not cached: rerunning the same command asks again and completes the run."""
    server.state.faults = ["400"]
    args = run_args(server.url, suite, tmp_path / "run", tmp_path / "c.sqlite", "--tasks", "safety/misuse",
                    "--limit", "4", "--concurrency", "1")
    assert cli(args).exit_code == 1
    assert_ok(cli(args))
    assert server.state.requests == 5
    assert all(s["response"] for s in read_samples(tmp_path / "run"))


def test_gives_up_after_max_attempts(server, suite, tmp_path):
    server.state.faults = ["500", "502", "503"]
    r = cli(run_args(server.url, suite, tmp_path / "run", tmp_path / "c.sqlite", "--tasks", "safety/misuse",
                     "--limit", "1", "--max-attempts", "3"))
    assert r.exit_code == 1
    assert server.state.requests == 3
    (s,) = read_samples(tmp_path / "run")
    assert s["response"] is None and "HTTP 503" in s["error"] and "gave up after 3 attempts" in s["error"]


def test_hang_times_out_and_is_retried(server, suite, tmp_path):
    server.state.faults = ["hang"]
    t0 = time.monotonic()
    r = cli(run_args(server.url, suite, tmp_path / "run", tmp_path / "c.sqlite", "--tasks", "safety/misuse",
                     "--limit", "1", "--timeout", "0.3"))
    assert_ok(r)
    assert time.monotonic() - t0 < 10
    assert server.state.requests == 2 and server.state.completed == 1


def test_every_attempt_has_a_timeout(server, suite, tmp_path):
    server.state.faults = ["hang", "hang"]
    t0 = time.monotonic()
    r = cli(run_args(server.url, suite, tmp_path / "run", tmp_path / "c.sqlite", "--tasks", "safety/misuse",
                     "--limit", "1", "--timeout", "0.2", "--max-attempts", "2"))
    assert r.exit_code == 1
    assert 0.4 <= time.monotonic() - t0 < 10
    (s,) = read_samples(tmp_path / "run")
    assert s["error"].startswith("timeout after 0.2s") and "gave up after 2 attempts" in s["error"]


async def test_scheduler_does_not_retry_unexpected_exceptions():
    """Programming errors propagate (no silent retry) and release their slot."""
    limiter = AdaptiveLimiter(initial=1)
    sched = Scheduler(limiter, RetryPolicy(base_delay=0.001))

    async def boom():
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        await sched.call(boom)
    assert limiter.in_flight == 0
    assert await asyncio.wait_for(sched.call(lambda: asyncio.sleep(0, "x")), 1) == "x"
