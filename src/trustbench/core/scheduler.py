"""Concurrency control and retries for model calls.

`AdaptiveLimiter` is AIMD with slow start: while latency holds it grows by one slot per
completed call (doubling per round trip), then by 1/limit per call after the first overload;
on 429/503 ("overload") it shrinks to 70%. `Scheduler.call` adds per-request timeouts and
retries transient errors with exponential backoff and full jitter, honouring Retry-After.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from trustbench.core.errors import ModelError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    timeout: float | None = 300.0  # seconds per request attempt (None: no limit)


class AdaptiveLimiter:
    """A semaphore whose size adapts to latency and back-pressure."""

    def __init__(self, initial: int = 8, minimum: int = 1, maximum: int = 64, adaptive: bool = True):
        self.minimum = max(1, minimum)
        self.maximum = max(self.minimum, maximum)
        self.limit = float(min(max(initial, self.minimum), self.maximum))
        self.adaptive = adaptive
        self.in_flight = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._slow_start = True
        self._base_latency: float | None = None
        self._last_cut = 0.0

    async def acquire(self) -> None:
        """Take a slot; waiters are served first-in first-out (no thundering herd)."""
        if self.in_flight < int(self.limit) and not self._waiters:
            self.in_flight += 1
            return
        fut = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            await fut  # the releaser counted us in
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.in_flight -= 1
                self._wake()
            elif fut in self._waiters:  # _wake may already have dropped the cancelled future
                self._waiters.remove(fut)
            raise

    async def release(self, latency: float | None = None, overload: bool = False) -> None:
        self.in_flight -= 1
        if self.adaptive:
            if overload:
                self._on_overload()
            elif latency is not None:
                self._on_success(latency)
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self.in_flight < int(self.limit):
            fut = self._waiters.popleft()
            if not fut.done():
                self.in_flight += 1
                fut.set_result(None)

    def _on_success(self, latency: float) -> None:
        base = self._base_latency
        self._base_latency = latency if base is None else min(base * 1.01, latency)  # slowly forget
        if latency > 2.0 * self._base_latency + 0.05:  # queueing: hold
            return
        step = 1.0 if self._slow_start else 1.0 / self.limit
        self.limit = min(self.maximum, self.limit + step)

    def _on_overload(self) -> None:
        now = time.monotonic()
        self._slow_start = False
        if now - self._last_cut < 0.5:  # one cut per burst
            return
        self._last_cut = now
        self.limit = max(self.minimum, self.limit * 0.7)


@dataclass
class CallStats:
    calls: int = 0
    retries: int = 0
    failures: int = 0


class Scheduler:
    """Runs coroutine factories under the limiter with timeouts and retries."""

    def __init__(self, limiter: AdaptiveLimiter, policy: RetryPolicy | None = None, *, seed: int | None = None):
        self.limiter = limiter
        self.policy = policy or RetryPolicy()
        self.stats = CallStats()
        self._rng = random.Random(seed)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        delay = min(self.policy.max_delay, self.policy.base_delay * (2**attempt))
        delay *= self._rng.uniform(0.5, 1.0)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.policy.max_delay * 4))
        return delay

    async def call(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Call `fn()` until it succeeds, fails permanently, or attempts run out (raises ModelError)."""
        error: ModelError | None = None
        for attempt in range(self.policy.max_attempts):
            await self.limiter.acquire()
            start = time.monotonic()
            self.stats.calls += 1
            try:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
                # (Ctrl-C) that races with the call's own timeout or completion, and the run goes on
                async with asyncio.timeout(self.policy.timeout):
                    result = await fn()
                error = None
            except TimeoutError:
                error = ModelError(f"timeout after {self.policy.timeout:g}s", transient=True)
            except ModelError as e:
                error = e
            except BaseException:
                await self.limiter.release()
                raise
            await self.limiter.release(
                time.monotonic() - start if error is None else None,
                overload=error is not None and error.overload,
            )
            if error is None:
                return result
            if not error.transient:
                break
            if attempt + 1 < self.policy.max_attempts:
                self.stats.retries += 1
                await asyncio.sleep(self._backoff(attempt, error.retry_after))
        assert error is not None
        self.stats.failures += 1
        if error.transient:
            raise ModelError(
                f"{error.reason} (gave up after {self.policy.max_attempts} attempts)",
                transient=False,
                status=error.status,
            )
        raise error
