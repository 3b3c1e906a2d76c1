"""A real run directory for the calibration tests: the engine against the fake OpenAI-compatible
server on 127.0.0.1, on a small TrustLLM-layout safety suite (tests/engine/tbhelp.py), judged by
the `keywords` refusal detector. Some responses carry markup that must never run in the sheet."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))

from tbhelp import write_suite  # noqa: E402

from trustbench.report.synthetic import TRICKY_PROMPT, XSS_IMG, XSS_SCRIPT  # noqa: E402
from trustbench.testing.fakeserver import answer_for  # noqa: E402

def answer(prompt: str) -> str:
    """The fake server's usual reply, with untrusted markup around a few of them."""
    base = answer_for(prompt)
    for tag, payload in (("misuse 1:", XSS_SCRIPT), ("misuse 2:", XSS_IMG), ("misuse 4:", TRICKY_PROMPT)):
        if prompt.startswith(tag):
            return f"{base} {payload}"
    return base


@pytest.fixture(scope="session")
def engine_run(tmp_path_factory) -> Path:
    """The engine's run directory (120 judged items: 3 safety tasks x 40); copy it before changing it."""
    from trustbench.engine.runner import RunConfig, run
    from trustbench.testing.fakeserver import FakeServer

    root = tmp_path_factory.mktemp("calib")
    data = write_suite(root / "data", 40)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRUSTBENCH_HOME", str(root / "home"))
        for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "TRUSTBENCH_CACHE", "TRUSTBENCH_DATA"):
            mp.delenv(var, raising=False)
        with FakeServer(latency=0.001, answer=answer) as s:
            cfg = RunConfig(model="openai:fake", base_url=s.url, suite="trustllm", data=str(data), tasks="safety",
                            out=str(root / "run"), cache=str(root / "cache.sqlite"), refusal_detector="keywords",
                            toxicity="none", embedder="none", progress=False, report=True, n_boot=20, seed=3,
                            argv=["trustbench", "run"])
            result = run(cfg, say=lambda m: None)
    assert result.failed == 0
    return result.out_dir


@pytest.fixture
def run_dir(engine_run, tmp_path) -> Path:
    """A private copy of the engine's run directory."""
    return Path(shutil.copytree(engine_run, tmp_path / "run"))
