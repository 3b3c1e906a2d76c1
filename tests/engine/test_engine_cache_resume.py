"""The response cache: re-runs make no requests, kill -9 resumes, two processes share a cache."""

from __future__ import annotations

import os
import signal
import time

from tbhelp import (
    assert_ok,
    cli,
    integrity,
    metrics_of,
    outcome,
    planned_prompts,
    popen_cli,
    read_json,
    read_samples,
    run_args,
    stored_prompts,
    write_suite,
)

from trustbench.core.cache import Cache
from trustbench.testing.fakeserver import FakeServer


def test_rerun_makes_zero_requests_and_gives_identical_metrics(server, suite, tmp_path):
    cache = tmp_path / "c.sqlite"
    assert_ok(cli(run_args(server.url, suite, tmp_path / "a", cache)))
    assert server.state.requests == 18
    assert_ok(cli(run_args(server.url, suite, tmp_path / "b", cache)))
    assert server.state.requests == 18  # nothing asked again
    assert metrics_of(tmp_path / "a") == metrics_of(tmp_path / "b")
    assert outcome(tmp_path / "a") == outcome(tmp_path / "b")
    assert all(s["cached"] for s in read_samples(tmp_path / "b"))
    assert not any(s["cached"] for s in read_samples(tmp_path / "a"))
    summary = read_json(tmp_path / "b" / "results.json")["summary"]
    assert summary["model_calls"] == 0 and summary["cache_hits"] == 18


def test_cache_key_ignores_base_url_and_api_key(suite, tmp_path, monkeypatch):
    """Moving to another server (or key) with the same model reuses the cache."""
    cache = tmp_path / "c.sqlite"
    with FakeServer() as a:
        assert_ok(cli(run_args(a.url, suite, tmp_path / "a", cache)))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-other-key")
    with FakeServer() as b:
        assert_ok(cli(run_args(b.url, suite, tmp_path / "b", cache)))
        assert b.state.requests == 0


def test_key_prefix_gives_the_keys_of_cache_key():
    """The plan's keys (leading parts encoded once) are the keys earlier caches hold."""
    import hashlib
    import json

    from trustbench.core.cache import cache_key, key_prefix

    identity = {"model": "m", "backend": "openai", "extra": {"b": [1, 2.5, None], "a": "é"}}
    params = {"temperature": 0.0, "max_tokens": 64}
    for msgs in ([{"role": "user", "content": "hi <b>&</b> ünï \u2028 \"q\""}], [], "text", {"z": 1, "a": [True]}):
        want = hashlib.sha256(json.dumps(("gen", identity, params, msgs), sort_keys=True, separators=(",", ":"),
                                         ensure_ascii=False).encode("utf-8")).hexdigest()
        assert key_prefix("gen", identity, params)(msgs) == cache_key("gen", identity, params, msgs) == want
        assert key_prefix()(msgs) == cache_key(msgs)
    assert key_prefix("gen", identity, params)("x") != key_prefix("gen", identity, {**params, "temperature": 1.0})("x")


def test_cache_key_changes_with_generation_settings(server, suite, tmp_path):
    cache = tmp_path / "c.sqlite"
    assert_ok(cli(run_args(server.url, suite, tmp_path / "a", cache, "--tasks", "safety/misuse")))
    assert_ok(cli(run_args(server.url, suite, tmp_path / "b", cache, "--tasks", "safety/misuse", "--temperature", "0")))
    assert_ok(cli(run_args(server.url, suite, tmp_path / "c", cache, "--tasks", "safety/misuse",
                           "--model", "openai:other")))
    assert server.state.requests == 18


def test_duplicate_prompts_are_requested_once(server, tmp_path):
    import json

    data = write_suite(tmp_path / "data", 2)
    (data / "safety" / "misuse.json").write_text(json.dumps([{"prompt": "same"}] * 5))
    assert_ok(cli(run_args(server.url, data, tmp_path / "run", tmp_path / "c.sqlite", "--tasks", "safety/misuse")))
    assert server.state.requests == 1
    samples = read_samples(tmp_path / "run")
    assert len(samples) == 5 and len({s["response"] for s in samples}) == 1


def _wait(cond, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def test_kill_9_mid_run_then_resume(tmp_path):
    """SIGKILL after some responses arrived; the rerun asks only for what was not stored,
    each such prompt exactly once, and ends with the samples of an uninterrupted run."""
    data = write_suite(tmp_path / "data", n_jail=0, n_misuse=150, n_exag=0)
    tasks = "safety/misuse"
    with FakeServer(latency=0.002) as clean_server:
        assert_ok(cli(run_args(clean_server.url, data, tmp_path / "clean", tmp_path / "clean.sqlite", "--tasks", tasks)))
    keys = planned_prompts(data, tasks)
    cache = tmp_path / "c.sqlite"
    with FakeServer(latency=0.03) as s:
        args = run_args(s.url, data, tmp_path / "run", cache, "--tasks", tasks, "--concurrency", "2")
        proc = popen_cli(args)
        try:
            _wait(lambda: s.state.completed >= 20 or proc.poll() is not None, 60, "20 responses")
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait(10)
        assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
        time.sleep(0.1)  # let requests the dead process left in flight finish at the server
        stored = stored_prompts(cache, keys)
        assert 0 < len(stored) < 150
        before = s.state.requested.copy()
        assert_ok(cli(args))
        asked = s.state.requested - before
    assert not set(asked) & stored, "a stored response was requested again"
    assert set(asked) == set(keys.values()) - stored
    assert set(asked.values()) == {1}
    assert outcome(tmp_path / "run") == outcome(tmp_path / "clean")
    assert integrity(cache) == "ok"


def test_two_processes_share_one_cache(tmp_path):
    data = write_suite(tmp_path / "data", n_jail=0, n_misuse=120, n_exag=0)
    cache = tmp_path / "shared.sqlite"
    with FakeServer(latency=0.003) as s:
        procs = [
            popen_cli(run_args(s.url, data, tmp_path / f"run{i}", cache, "--tasks", "safety/misuse", "--concurrency", "4"))
            for i in range(2)
        ]
        for p in procs:
            assert p.wait(120) == 0
        assert 120 <= s.state.completed <= 240
    assert integrity(cache) == "ok"
    c = Cache(cache)
    try:
        assert c.count() == 120
    finally:
        c.close()
    assert outcome(tmp_path / "run0") == outcome(tmp_path / "run1")
    assert len(read_samples(tmp_path / "run0")) == 120


_OPEN_AND_PUT = """
import sys, time
from trustbench.core.cache import Cache
start = float(sys.argv[2])
while time.time() < start:
    pass
c = Cache(sys.argv[1])
c.put(sys.argv[3], {"v": sys.argv[3]})
c.close()
"""


def test_processes_opening_a_new_cache_at_once_all_succeed(tmp_path):
    """Switching to WAL takes a lock SQLite's busy handler does not wait for; opening must retry."""
    import subprocess
    import sys

    for round_ in range(5):
        path = tmp_path / f"fresh{round_}.sqlite"
        start = time.time() + 1.0
        procs = [
            subprocess.Popen([sys.executable, "-c", _OPEN_AND_PUT, str(path), str(start), f"k{i}"],
                             stderr=subprocess.PIPE, text=True)
            for i in range(6)
        ]
        done = [(p.communicate(timeout=60)[1], p.returncode) for p in procs]
        errors = [err for err, rc in done if rc != 0]
        assert not errors, errors[0][-500:]
        c = Cache(path)
        try:
            assert c.count() == 6
        finally:
            c.close()
