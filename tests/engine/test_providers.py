"""Native providers under the same engine: anthropic:<model> (Messages API) and litellm:<model>,
against local fake servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib.util

import pytest
from tbhelp import FAST_FLAGS, assert_ok, cli, read_json, read_samples

from trustbench.core.scheduler import AdaptiveLimiter, RetryPolicy, Scheduler
from trustbench.errors import SpecError
from trustbench.models.anthropic_http import AnthropicModel, reset_delay
from trustbench.models.base import GenParams, ModelError
from trustbench.models.spec import load_model
from trustbench.testing.fakeserver import FakeServer, answer_for

HAS_LITELLM = importlib.util.find_spec("litellm") is not None


def provider_args(base_url, data, out, cache, model, *extra):
    return ["run", "--model", model, "--base-url", base_url, "--suite", "trustllm", "--data", str(data),
            "--tasks", "safety", "--out", str(out), "--cache", str(cache), *FAST_FLAGS, *extra]


def test_anthropic_run_uses_the_messages_api_and_the_cache(server, suite, tmp_path, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key-anthropic")
    args = provider_args(server.anthropic_url, suite, tmp_path / "run", tmp_path / "c.sqlite", "anthropic:claude-test",
                         "--system-prompt", "Be brief.")
    assert_ok(cli(args))
    h = server.state.last_headers
    assert h["x-api-key"] == "test-key-anthropic" and h["anthropic-version"] == "2023-06-01"
    assert "authorization" not in h
    samples = read_samples(tmp_path / "run")
    assert len(samples) == 18
    assert all(s["response"] == answer_for(s["messages"][-1]["content"]) for s in samples)
    manifest = read_json(tmp_path / "run" / "manifest.json")
    assert manifest["model"]["identity"] == {"backend": "anthropic", "model": "claude-test"}
    before = server.state.requests
    args[args.index("--out") + 1] = str(tmp_path / "run2")
    r = cli(args)
    assert_ok(r)
    assert server.state.requests == before and "0 need the model" in r.stdout


def test_anthropic_backpressure_is_retried_and_shrinks_concurrency(suite, tmp_path, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
    with FakeServer(faults=["529", "429", "429-reset", "500", "529"], retry_after=0.01) as s:
        r = cli(provider_args(s.anthropic_url, suite, tmp_path / "run", tmp_path / "c.sqlite", "anthropic:claude-test"))
        assert_ok(r)
        assert s.state.completed == 18 and s.state.requests == 23
    assert read_json(tmp_path / "run" / "results.json")["summary"]["retries"] == 5


async def test_anthropic_overload_signals_reach_the_limiter():
    with FakeServer(faults=["529", "429-reset"], retry_after=0.01) as s:
        async with AnthropicModel("claude-test", [s.anthropic_url], api_key="test-key-0123456789") as m:
            errors = []
            for _ in range(2):
                with pytest.raises(ModelError) as e:
                    await m.complete([{"role": "user", "content": "hi"}], GenParams())
                errors.append(e.value)
            assert all(e.transient and e.overload for e in errors)
            assert errors[0].status == 529 and errors[1].retry_after is not None and errors[1].retry_after <= 0.05
            limiter = AdaptiveLimiter(initial=8, maximum=8)
            s.state.faults = ["529"]
            sched = Scheduler(limiter, RetryPolicy(base_delay=0.001))
            c = await sched.call(lambda: m.complete([{"role": "user", "content": "hi"}], GenParams()))
            assert c.text == answer_for("hi") and limiter.limit < 8 and sched.stats.retries == 1


async def test_anthropic_permanent_errors_and_bad_bodies():
    with FakeServer(faults=["401", "400", "bad-json"]) as s:
        async with AnthropicModel("claude-test", [s.anthropic_url], api_key="test-key-0123456789") as m:
            reasons = []
            for _ in range(3):
                with pytest.raises(ModelError) as e:
                    await m.complete([{"role": "user", "content": "hi"}], GenParams())
                reasons.append(e.value)
    assert "check ANTHROPIC_API_KEY" in reasons[0].reason and not reasons[0].transient
    assert reasons[1].status == 400 and not reasons[1].transient
    assert reasons[2].transient and "malformed messages response" in reasons[2].reason


def test_reset_delay():
    now = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    headers = {"anthropic-ratelimit-requests-reset": "2025-01-01T00:00:03Z",
               "anthropic-ratelimit-tokens-reset": "2025-01-01T00:00:01.5Z",
               "anthropic-ratelimit-input-tokens-reset": "not a date"}
    assert reset_delay(headers, now) == 1.5
    assert reset_delay({"anthropic-ratelimit-requests-reset": "2024-12-31T23:59:59Z"}, now) is None
    assert reset_delay({}, now) is None


def test_system_messages_move_to_the_system_field():
    m = AnthropicModel("c", ["http://127.0.0.1:9"], api_key="k")
    body = m._body([{"role": "system", "content": "S"}, {"role": "user", "content": "U"}], GenParams(max_tokens=None))
    assert body["system"] == "S" and body["messages"] == [{"role": "user", "content": "U"}]
    assert body["max_tokens"] == 1024 and "seed" not in body


def test_litellm_missing_is_a_one_line_error(server, suite, tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "litellm" else real(name, *a))
    with pytest.raises(SpecError, match=r"pip install 'trustbench\[litellm\]'"):
        load_model("litellm:openai/fake")
    r = cli(provider_args(server.url, suite, tmp_path / "run", tmp_path / "c.sqlite", "litellm:openai/fake"))
    assert r.exit_code == 2
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "trustbench[litellm]" in lines[0] and "Traceback" not in r.stderr
    assert server.state.requests == 0


@pytest.mark.skipif(not HAS_LITELLM, reason="litellm extra not installed")
def test_litellm_runs_under_the_engine(suite, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "test-key-litellm")
    with FakeServer(faults=["429", "500", "503"], retry_after=0.01) as s:
        # LiteLLM's first call builds its client lazily, which can take longer than FAST_FLAGS'
        # 0.5 s timeout on a loaded machine: a timed-out call that the server still completes
        # would be counted twice
        args = provider_args(s.url, suite, tmp_path / "run", tmp_path / "c.sqlite", "litellm:openai/fake",
                             "--timeout", "30")
        assert_ok(cli(args))
        assert s.state.completed == 18 and s.state.requests == 21  # three retried by trustbench, none by LiteLLM
        assert s.state.last_headers["authorization"] == "Bearer test-key-litellm"
        samples = read_samples(tmp_path / "run")
        assert all(x["response"] == answer_for(x["messages"][-1]["content"]) for x in samples)
        args[args.index("--out") + 1] = str(tmp_path / "run2")
        r = cli(args)
        assert_ok(r)
        assert s.state.requests == 21 and "0 need the model" in r.stdout


@pytest.mark.skipif(not HAS_LITELLM, reason="litellm extra not installed")
def test_litellm_permanent_error_is_not_retried(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "test-key-litellm")

    async def go():
        with FakeServer(faults=["400"]) as s:
            m = load_model("litellm:openai/fake", base_url=s.url)
            async with m:
                sched = Scheduler(AdaptiveLimiter(), RetryPolicy(base_delay=0.001))
                with pytest.raises(ModelError) as e:
                    await sched.call(lambda: m.complete([{"role": "user", "content": "hi"}], GenParams()))
            return e.value, s.state.requests

    err, requests = asyncio.run(go())
    assert requests == 1 and err.status == 400 and "BadRequestError" in err.reason
