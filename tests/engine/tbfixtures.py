"""Fixtures shared by tests/{engine,reliability,cli}: isolated environment, fast retries,
a fake server and a tiny suite. Each of those directories' conftest.py star-imports this."""

from __future__ import annotations

import functools

import pytest
from tbhelp import write_suite

from trustbench.engine import runner
from trustbench.core.scheduler import RetryPolicy
from trustbench.testing.fakeserver import FakeServer


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """No real keys, URLs, caches or data from the developer's environment leak into a test."""
    monkeypatch.setenv("TRUSTBENCH_HOME", str(tmp_path / "home"))
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "TRUSTBENCH_CACHE", "TRUSTBENCH_DATA", "HF_ENDPOINT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture(autouse=True)
def fast_retry(monkeypatch):
    """In-process runs back off 10 ms (not 500 ms) before the first retry; subprocesses are unaffected."""
    monkeypatch.setattr(runner, "RetryPolicy", functools.partial(RetryPolicy, base_delay=0.01))


@pytest.fixture
def server():
    with FakeServer(latency=0.002) as s:
        yield s


@pytest.fixture
def suite(tmp_path):
    return write_suite(tmp_path / "data", 6)
