"""Reliability under faults and crashes (issue 7):

- a 500-item run under a 30% fault rate completes; every item is answered or recorded failed
  with its reason; answered items score exactly as in a fault-free run;
- a crash-resume soak: runs killed with SIGKILL at seeded random moments, each resumed; no
  stored response is requested again, the cache stays intact, the final samples equal a clean run.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter

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

from trustbench.testing.fakeserver import FAULTS, FakeServer


def test_500_items_under_30_percent_faults(tmp_path):
    data = write_suite(tmp_path / "data", n_jail=170, n_misuse=165, n_exag=165)
    with FakeServer(latency=0.001) as clean:
        assert_ok(cli(run_args(clean.url, data, tmp_path / "clean", tmp_path / "clean.sqlite")))
    cache = tmp_path / "c.sqlite"
    faulty_args = run_args("URL", data, tmp_path / "faulty", cache, "--max-attempts", "25", "--timeout", "0.3")
    with FakeServer(latency=0.001, fault_rate=0.3, seed=7) as s:
        faulty_args[faulty_args.index("URL")] = s.url
        r = cli(faulty_args)
        assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
        faults_served = s.state.requests - s.state.completed
    assert faults_served > 100  # the faults really happened (~30% of requests)

    samples = read_samples(tmp_path / "faulty")
    assert len(samples) == 500
    answered = [x for x in samples if x["response"] is not None]
    failed = [x for x in samples if x["response"] is None]
    for x in samples:
        assert (x["response"] is None) == bool(x["error"]), x  # answered, or failed with a reason
    for x in failed:  # only the permanent fault (400) fails an item with 25 attempts (0.3**25 per item otherwise)
        assert "HTTP 400" in x["error"], x["error"]
    assert r.exit_code == (1 if failed else 0)
    summary = read_json(tmp_path / "faulty" / "results.json")["summary"]
    assert summary["failed"] == len(failed) and summary["items"] == 500 and summary["retries"] > 100

    reference = outcome(tmp_path / "clean")
    for x in answered:
        ref = reference[(x["task"], x["id"])]
        for key in ("response", "verdicts", "score", "messages"):
            assert x[key] == ref[key], (x["id"], key)

    # Rerun against a healthy server: failed items are asked again, answered ones are not.
    with FakeServer(latency=0.001) as healthy:
        faulty_args[faulty_args.index("--base-url") + 1] = healthy.url
        assert_ok(cli(faulty_args))
        assert healthy.state.requests == len(failed)
    assert outcome(tmp_path / "faulty") == reference
    assert metrics_of(tmp_path / "faulty") == metrics_of(tmp_path / "clean")


def test_every_fault_kind_is_survivable(tmp_path):
    """Each kind the fake server can inject, in one run: transient ones retried, 400 recorded."""
    data = write_suite(tmp_path / "data", n_jail=0, n_misuse=len(FAULTS) + 4, n_exag=0)
    with FakeServer(faults=list(FAULTS)) as s:
        r = cli(run_args(s.url, data, tmp_path / "run", tmp_path / "c.sqlite", "--tasks", "safety/misuse",
                         "--concurrency", "1", "--timeout", "0.3"))
    samples = read_samples(tmp_path / "run")
    failed = [x for x in samples if x["response"] is None]
    assert r.exit_code == 1 and len(failed) == 1 and "HTTP 400" in failed[0]["error"]
    assert all(x["response"] for x in samples if x not in failed)


def _wait(cond, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


def test_crash_resume_soak(tmp_path):
    """10 runs killed with SIGKILL at seeded random moments (most right after a response
    arrived, i.e. while it is being written to the cache), each resumed by the next."""
    rng = random.Random(20240607)
    data = write_suite(tmp_path / "data", n_jail=0, n_misuse=240, n_exag=0)
    tasks = "safety/misuse"
    keys = planned_prompts(data, tasks)
    with FakeServer(latency=0.001) as clean:
        assert_ok(cli(run_args(clean.url, data, tmp_path / "clean", tmp_path / "clean.sqlite", "--tasks", tasks)))
    cache = tmp_path / "c.sqlite"
    kills = 0
    with FakeServer(latency=0.01) as s:
        args = run_args(s.url, data, tmp_path / "run", cache, "--tasks", tasks, "--concurrency", "4")
        for _ in range(10):
            stored = stored_prompts(cache, keys) if cache.exists() else set()
            before = s.state.requested.copy()
            proc = popen_cli(args)
            try:
                start = s.state.completed
                _wait(lambda: s.state.completed >= start + rng.randint(1, 20) or proc.poll() is not None, 60)
                time.sleep(rng.choice([0.0, 0.0005, 0.001, 0.002, rng.uniform(0, 0.02)]))
                if proc.poll() is None:
                    os.kill(proc.pid, signal.SIGKILL)
                    kills += 1
            finally:
                proc.wait(30)
            time.sleep(0.03)  # requests the dead process left in flight finish at the server
            asked = s.state.requested - before
            assert not set(asked) & stored, "a stored response was requested again"
            assert integrity(cache) == "ok"
        assert kills >= 8
        stored = stored_prompts(cache, keys)
        assert len(stored) < 240, "nothing left for the final resume"
        before = s.state.requested.copy()
        assert_ok(cli(args))
        asked = s.state.requested - before
        assert set(asked) == set(keys.values()) - stored
        assert set(Counter(asked).values()) == {1}
    assert outcome(tmp_path / "run") == outcome(tmp_path / "clean")
    assert metrics_of(tmp_path / "run") == metrics_of(tmp_path / "clean")
    assert integrity(cache) == "ok"
