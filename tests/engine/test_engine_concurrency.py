"""Adaptive concurrency (grows on a latency-bound server, shrinks on 429) and load balancing."""

from __future__ import annotations

import asyncio

from tbhelp import assert_ok, cli, read_samples, run_args, write_suite

from trustbench.core.scheduler import AdaptiveLimiter, RetryPolicy, Scheduler
from trustbench.models.base import GenParams
from trustbench.models.openai_http import OpenAIChatModel
from trustbench.testing.fakeserver import FakeServer


class RecordingLimiter(AdaptiveLimiter):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.history: list[float] = [self.limit]

    async def release(self, latency=None, overload=False):
        await super().release(latency, overload)
        self.history.append(self.limit)


async def _calls(model: OpenAIChatModel, sched: Scheduler, n: int, tag: str) -> None:
    async def one(i: int) -> None:
        await sched.call(lambda: model.complete([{"role": "user", "content": f"{tag} {i}"}], GenParams()))

    await asyncio.gather(*(one(i) for i in range(n)))


async def test_limit_grows_with_a_latency_bound_server():
    limiter = RecordingLimiter(initial=2, maximum=24)
    sched = Scheduler(limiter, RetryPolicy(base_delay=0.001, timeout=5), seed=0)
    with FakeServer(latency=0.05) as s:
        async with OpenAIChatModel("fake", [s.url]) as model:
            await _calls(model, sched, 200, "grow")
        assert s.state.completed == 200
        assert limiter.limit >= 16, limiter.history[-5:]
        assert s.state.max_in_flight >= 12  # the server saw the extra concurrency
        assert s.state.max_in_flight <= 24  # and never more than the maximum


async def test_limit_shrinks_on_429():
    limiter = RecordingLimiter(initial=8, maximum=32)
    sched = Scheduler(limiter, RetryPolicy(max_attempts=15, base_delay=0.001, timeout=5), seed=0)
    with FakeServer(latency=0.01, fault_kinds=("429",), seed=3) as s:
        async with OpenAIChatModel("fake", [s.url]) as model:
            await _calls(model, sched, 150, "warm")
            peak = limiter.limit
            assert peak >= 24
            s.state.fault_rate = 0.4  # many requests rate-limited
            mark = len(limiter.history)
            await _calls(model, sched, 150, "overload")
        after = limiter.history[mark:]
        assert min(after) <= 0.7 * peak + 1  # cut multiplicatively
        assert limiter.limit < peak
        assert s.state.per_prompt.total() == 300  # and every call still succeeded


async def test_limit_is_bounded_below_and_above():
    limiter = AdaptiveLimiter(initial=4, minimum=1, maximum=6)
    for _ in range(50):
        await limiter.acquire()
        await limiter.release(0.01)
    assert limiter.limit == 6
    for _ in range(30):
        limiter._last_cut = 0.0  # each overload counts as a new burst
        await limiter.acquire()
        await limiter.release(overload=True)
    assert limiter.limit == 1


def test_fixed_concurrency_is_respected(suite, tmp_path):
    with FakeServer(latency=0.02) as s:
        r = cli(run_args(s.url, suite, tmp_path / "run", tmp_path / "c.sqlite", "--concurrency", "3"))
        assert_ok(r)
        assert s.state.completed == 18
        assert 1 <= s.state.max_in_flight <= 3


async def test_least_outstanding_requests_balancing():
    """A slow server holds its requests longer, so it is picked less; both get traffic."""
    sched = Scheduler(AdaptiveLimiter(initial=8, adaptive=False), RetryPolicy(timeout=5), seed=0)
    with FakeServer(latency=0.005) as fast, FakeServer(latency=0.1) as slow:
        async with OpenAIChatModel("fake", [slow.url, fast.url]) as model:
            await _calls(model, sched, 200, "lb")
        assert fast.state.completed + slow.state.completed == 200
        assert slow.state.completed > 0 and fast.state.completed > 0
        assert fast.state.completed > 3 * slow.state.completed
        assert model._outstanding == {slow.url.rstrip("/"): 0, fast.url.rstrip("/"): 0}


def test_comma_separated_base_urls_share_the_work(tmp_path):
    data = write_suite(tmp_path / "data", 10)
    with FakeServer(latency=0.02) as a, FakeServer(latency=0.02) as b:
        r = cli(run_args(f"{a.url}, {b.url}", data, tmp_path / "run", tmp_path / "c.sqlite", "--concurrency", "4"))
        assert_ok(r)
        assert a.state.completed > 0 and b.state.completed > 0
        assert a.state.completed + b.state.completed == 30
    assert all(s["response"] for s in read_samples(tmp_path / "run"))


async def test_cancelled_waiter_that_was_already_dropped_does_not_break_the_limiter():
    """Regression: a waiter cancelled (run aborted) after release() dropped its future used to raise
    ValueError from deque.remove and leak an 'unhandled exception' at shutdown."""
    limiter = AdaptiveLimiter(initial=1, adaptive=False)
    await limiter.acquire()
    waiter = asyncio.ensure_future(limiter.acquire())
    await asyncio.sleep(0)  # the waiter queues its future
    waiter.cancel()  # cancels the queued future at once
    await limiter.release()  # drops the cancelled future from the queue
    await asyncio.sleep(0)
    assert waiter.cancelled()
    assert limiter.in_flight == 0 and not limiter._waiters
    await asyncio.wait_for(limiter.acquire(), 1)
    assert limiter.in_flight == 1
