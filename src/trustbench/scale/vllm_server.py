"""`vllm:<model>` replicas: vLLM's OpenAI-compatible server, started as a child process on the
replica's node (`python -m vllm.entrypoints.openai.api_server`), used once /health answers.

The server gets SIGTERM when the replica's process dies (Linux PR_SET_PDEATHSIG; vLLM then shuts
down its engine processes) and runs in its own session so that `stop` ends its whole group.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from trustbench.scale.replica import wait_healthy

START_TIMEOUT_S = float(os.environ.get("TRUSTBENCH_VLLM_START_S", "900"))  # large models load slowly


class VLLMError(RuntimeError):
    pass


def vllm_command(model: str, host: str, port: int, *, gpus: float, n_parallel: int) -> list[str]:
    cmd = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", model, "--host", host,
           "--port", str(port), "--served-model-name", model, "--max-num-seqs", str(n_parallel),
           "--disable-log-stats"]
    if gpus >= 2:
        cmd += ["--tensor-parallel-size", str(int(gpus))]
    return cmd


def _die_with_parent() -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: stop() still ends the server
        pass


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class VLLMServer:
    """A running vLLM server: `root` is its base URL (without /v1)."""

    def __init__(self, model: str, host: str, *, gpus: float = 0.0, n_parallel: int = 8,
                 timeout: float = START_TIMEOUT_S):
        if importlib.util.find_spec("vllm") is None:
            raise VLLMError(f"vllm:{model} needs vLLM on the replica's node ({socket.gethostname()}): "
                            "pip install vllm there")
        port = _free_port(host)
        self.root = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
        fd, log = tempfile.mkstemp(prefix="trustbench-vllm-", suffix=".log")
        os.close(fd)
        self.log = Path(log)
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(vllm_command(model, host, port, gpus=gpus, n_parallel=n_parallel),
                                         stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                         preexec_fn=_die_with_parent)
        try:
            self._wait_healthy(timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_healthy(self, timeout: float) -> None:
        if not wait_healthy(self.root, timeout, interval=0.5, check=self._check_running):
            raise VLLMError(f"vLLM server at {self.root} not healthy after {timeout:g}s: {self._last_line()}")

    def _check_running(self) -> None:
        if self.proc.poll() is not None:
            raise VLLMError(f"vLLM server exited with status {self.proc.returncode}: {self._last_line()}")

    def _last_line(self) -> str:
        try:
            lines = [x for x in self.log.read_text(errors="replace").splitlines() if x.strip()]
        except OSError:
            return "(no log)"
        return lines[-1].strip()[:300] if lines else "(no output)"

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.log.unlink(missing_ok=True)
