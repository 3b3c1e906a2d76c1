"""A two-node Ray cluster on 127.0.0.1 for tests: a head started with `ray start --head` and a
second node in its own process, every Ray server listening on loopback only.

Ray listens on 127.0.0.1 only when a node's IP is 127.0.0.1, which it keeps only with its
multi-node mode off (RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0); with the mode on, `ray start
--node-ip-address 127.0.0.1` swaps in the machine's routable address and gRPC listens on all
interfaces. With the mode off `ray start --head` works, but `ray start --address` refuses to add
a node, and no Ray setting lifts that. So the second node is started the way `ray start
--address` starts one after that refusal (and as `ray.cluster_utils.Cluster` adds nodes): Ray's
`Node(RayParams(...), head=False)`, run by `python -m trustbench.testing.raycluster join`.

Every process of the cluster carries the environment variable TRUSTBENCH_RAY_CLUSTER=<id>, so
`stop()` ends exactly the processes of this cluster (never a global `ray stop`).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

MARK = "TRUSTBENCH_RAY_CLUSTER"
OBJECT_STORE = 80 * 1024 * 1024


def node_ports(base: int) -> dict[str, int]:
    """Every port a node takes, from `base` up (base .. base+299)."""
    return {"node_manager_port": base + 2, "object_manager_port": base + 3, "dashboard_agent_listen_port": base + 5,
            "metrics_agent_port": base + 6, "runtime_env_agent_port": base + 7, "metrics_export_port": base + 8,
            "min_worker_port": base + 100, "max_worker_port": base + 299}


class LoopbackCluster:
    """Head on ports base..base+299 (GCS on base+1), second node on base+300..base+599."""

    def __init__(self, base_port: int, cpus_per_node: int = 2, env: dict[str, str] | None = None):
        self.base = base_port
        self.address = f"127.0.0.1:{base_port + 1}"
        self.cpus = cpus_per_node
        self.id = uuid.uuid4().hex
        self.tmp = Path(tempfile.mkdtemp(prefix="tbray", dir="/tmp"))  # short: Ray's unix socket paths
        self.env = {**os.environ, **(env or {}), MARK: self.id, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
                    "RAY_USAGE_STATS_ENABLED": "0",
                    # Ray turns token auth on when ~/.ray/auth_token exists (a `ray.init()` writes
                    # one): the test cluster does not depend on that file
                    "RAY_AUTH_MODE": "disabled"}
        self._joiner: subprocess.Popen | None = None
        self._seen: set[tuple[int, float]] = set()

    def start(self, timeout: float = 120) -> LoopbackCluster:
        try:
            self._start_head(timeout)
            self._start_node(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_head(self, timeout: float) -> None:
        p = node_ports(self.base)
        flags = [f"--{k.replace('_', '-')}={v}" for k, v in p.items() if k != "metrics_agent_port"]
        cmd = [sys.executable, "-m", "ray.scripts.scripts", "start", "--head", "--node-ip-address=127.0.0.1",
               f"--port={self.base + 1}", f"--dashboard-agent-grpc-port={p['metrics_agent_port']}",
               f"--dashboard-port={self.base + 9}", "--include-dashboard=false", "--disable-usage-stats",
               f"--num-cpus={self.cpus}", f"--object-store-memory={OBJECT_STORE}", f"--temp-dir={self.tmp / 'head'}",
               *flags]
        r = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=timeout)
        if r.returncode:
            raise RuntimeError(f"ray start --head failed: {(r.stdout + r.stderr).strip()[-2000:]}")

    def _start_node(self, timeout: float) -> None:
        cmd = [sys.executable, "-m", "trustbench.testing.raycluster", "join", self.address, str(self.base + 300),
               str(self.cpus), str(self.tmp / "node")]
        self._joiner = subprocess.Popen(cmd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert self._joiner.stdout is not None
        deadline, said = time.monotonic() + timeout, []
        while time.monotonic() < deadline:
            line = self._joiner.stdout.readline()
            if line.startswith("node up"):
                return
            said.append(line)
            if not line and self._joiner.poll() is not None:
                break
        raise RuntimeError(f"the second Ray node did not start: {''.join(said).strip()[-2000:]}")

    def processes(self, thorough: bool = False) -> list:
        """Every live process of this cluster: those carrying its environment marker or naming
        its temp dir, their descendants, and every one seen before (Ray renames its agents and
        workers with setproctitle, which can overwrite the environment that /proc shows). With
        `thorough`, also any process holding a file open under the temp dir (an orphaned agent)."""
        import psutil

        tmp, me = str(self.tmp), os.getpid()
        found: dict[int, psutil.Process] = {}
        for p in psutil.process_iter():
            try:
                if p.pid == me:
                    continue
                key = (p.pid, p.create_time())
                if (key in self._seen or p.environ().get(MARK) == self.id or tmp in " ".join(p.cmdline())
                        or (thorough and any(f.path.startswith(tmp) for f in p.open_files()))):
                    found[p.pid] = p
            except psutil.Error:
                pass
        for p in list(found.values()):
            try:
                found.update((c.pid, c) for c in p.children(recursive=True) if c.pid != me)
            except psutil.Error:
                pass
        for p in found.values():
            try:
                self._seen.add((p.pid, p.create_time()))
            except psutil.Error:
                pass
        return list(found.values())

    def stop(self, timeout: float = 15) -> None:
        import psutil

        if self._joiner is not None and self._joiner.poll() is None:
            self._joiner.send_signal(signal.SIGTERM)  # the node's own shutdown stops its processes
            try:
                self._joiner.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        procs = self.processes(thorough=True)
        for p in procs:
            try:
                p.terminate()
            except psutil.Error:
                pass
        _, alive = psutil.wait_procs(procs, timeout=5)
        for p in alive + self.processes(thorough=True):
            try:
                p.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(self.processes(thorough=True), timeout=5)
        if self._joiner is not None and self._joiner.poll() is None:
            self._joiner.kill()
            self._joiner.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


def _join(address: str, base: int, cpus: int, temp_dir: str) -> None:
    """Run a non-head node on 127.0.0.1 until SIGTERM (what `ray start --address --block` runs)."""
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    from ray._private.node import Node
    from ray._private.parameter import RayParams

    params = RayParams(gcs_address=address, node_ip_address="127.0.0.1", num_cpus=cpus, temp_dir=temp_dir,
                       object_store_memory=OBJECT_STORE, include_log_monitor=False, **node_ports(base))
    node = Node(params, head=False, shutdown_at_exit=True, spawn_reaper=True)
    stop = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.append(1))
    print("node up", node.node_id, flush=True)
    while not stop:
        signal.pause()
    node.kill_all_processes(check_alive=False, allow_graceful=True)


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "join":
        _join(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    else:
        sys.exit("usage: python -m trustbench.testing.raycluster join ADDRESS BASE_PORT CPUS TEMP_DIR")
