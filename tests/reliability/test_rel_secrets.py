"""Secrets: a canary API key (OPENAI_API_KEY) must never reach the run directory, the report,
the cache, rates.json or the terminal, even when error bodies echo the request headers."""

from __future__ import annotations

import importlib.util
import os

import pytest
from tbhelp import cli_proc, read_samples, run_args, write_suite

from trustbench.models.base import GenParams, ModelError
from trustbench.models.openai_http import OpenAIChatModel
from trustbench.testing.fakeserver import FakeServer

CANARY = "sk-canary-5f1e9b7c3a2d4e6f8091a2b3c4d5e6f7"


def fragments(secret: str, width: int = 10) -> list[str]:
    """Every window of the key's random part: a partial leak counts as a leak."""
    body = secret.removeprefix("sk-canary-")
    return [body[i : i + width] for i in range(len(body) - width + 1)]


def assert_clean(blob: bytes, where: str) -> None:
    text = blob.decode("utf-8", "replace")
    assert CANARY not in text, f"canary in {where}"
    for frag in fragments(CANARY):
        assert frag not in text, f"part of the canary ({frag}) in {where}"


def _files(*roots):
    for root in roots:
        if root.is_file():
            yield root
        elif root.exists():
            yield from (p for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("scenario", ["errors-echo-headers", "all-401"])
def test_canary_key_never_leaks(scenario, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)
    data = write_suite(tmp_path / "data", 4)
    if scenario == "errors-echo-headers":
        faults = ["401", "403", "500", "429", "502", "400", "503", "bad-json", "html", "drop", "401"]
    else:
        faults = ["401"] * 12
    cache = tmp_path / "cache.sqlite"
    out = tmp_path / "run"
    with FakeServer(echo_headers=True, faults=faults) as s:
        args = [a for a in run_args(s.url, data, out, cache, "--concurrency", "2", "--max-attempts", "3")
                if a != "--no-report"]
        r = cli_proc(args, env=dict(os.environ))
    assert r.returncode == 1  # 401/403/400 items failed
    errors = [x["error"] for x in read_samples(out) if x["error"]]
    assert any("HTTP 401 (check OPENAI_API_KEY)" in e for e in errors)
    assert any("Bearer ***" in e for e in errors), "the echo path was not exercised"
    assert_clean(r.stdout, "stdout")
    assert_clean(r.stderr, "stderr")
    files = list(_files(out, tmp_path / "home", *tmp_path.glob("cache.sqlite*")))
    names = {p.name for p in files}
    assert {"manifest.json", "samples.jsonl", "results.json", "cache.sqlite"} <= names
    if importlib.util.find_spec("trustbench.report") is not None:
        assert "report.html" in names
    for p in files:
        assert_clean(p.read_bytes(), str(p))


async def test_key_cut_by_the_snippet_limit_is_still_redacted(monkeypatch):
    """The error snippet is cut at 200 characters; a key straddling the cut must not leave a prefix."""
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)
    for offset in (170, 185, 195, 199):
        body = ("x" * offset + CANARY + " tail").encode()
        with FakeServer(faults=["500"], error_body=body) as s:
            async with OpenAIChatModel("fake", [s.url]) as model:
                with pytest.raises(ModelError) as e:
                    await model.complete([{"role": "user", "content": "hi"}], GenParams())
        assert_clean(e.value.reason.encode(), f"reason at offset {offset}")
        assert not any(CANARY[:k] in e.value.reason for k in range(6, len(CANARY)))


async def test_connection_errors_do_not_carry_the_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)
    async with OpenAIChatModel("fake", ["http://127.0.0.1:9/v1"]) as model:
        with pytest.raises(ModelError) as e:
            await model.complete([{"role": "user", "content": "hi"}], GenParams())
    assert e.value.transient
    assert_clean(e.value.reason.encode(), "connection error")


def test_key_on_the_command_line_is_scrubbed_from_the_manifest(tmp_path):
    from trustbench.engine.runner import _scrub_argv

    argv = ["trustbench", "run", f"--api-key={CANARY}", CANARY, "--model", "openai:x"]
    assert_clean(" ".join(_scrub_argv(argv)).encode(), "manifest command")


@pytest.mark.parametrize("provider", ["anthropic", "litellm"])
def test_canary_key_never_leaks_from_other_providers(provider, tmp_path):
    """The same check for anthropic:<model> (key in x-api-key, ANTHROPIC_API_KEY) and for
    litellm:<model> (LiteLLM reads OPENAI_API_KEY for openai/ models)."""
    if provider == "litellm" and importlib.util.find_spec("litellm") is None:
        pytest.skip("litellm extra not installed")
    env = dict(os.environ)
    env["ANTHROPIC_API_KEY" if provider == "anthropic" else "OPENAI_API_KEY"] = CANARY
    data = write_suite(tmp_path / "data", 4)
    faults = ["401", "403", "500", "429", "502", "400", "503", "bad-json", "html", "drop", "401"]
    out = tmp_path / "run"
    with FakeServer(echo_headers=True, faults=faults) as s:
        model = "anthropic:claude-test" if provider == "anthropic" else "litellm:openai/fake"
        url = s.anthropic_url if provider == "anthropic" else s.url
        args = [a for a in run_args(url, data, out, tmp_path / "cache.sqlite", "--concurrency", "2",
                                    "--max-attempts", "3", model=model) if a != "--no-report"]
        r = cli_proc(args, env=env, timeout=180)
    assert r.returncode == 1, r.stderr
    errors = [x["error"] for x in read_samples(out) if x["error"]]
    assert any("401" in e for e in errors)
    if provider == "anthropic":
        assert any('"x-api-key": "***"' in e for e in errors), "the echo path was not exercised"
    assert_clean(r.stdout, "stdout")
    assert_clean(r.stderr, "stderr")
    files = list(_files(out, tmp_path / "home", *tmp_path.glob("cache.sqlite*")))
    assert {"manifest.json", "samples.jsonl", "results.json", "cache.sqlite"} <= {p.name for p in files}
    for p in files:
        assert_clean(p.read_bytes(), str(p))
