"""Fixture run directories for the report / comparison tests (synthetic, no model, no network)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trustbench.report.synthetic import TRICKY_PROMPT, XSS_IMG, XSS_SCRIPT, write_synthetic_run


def add_tricky_sample(run_dir: Path) -> None:
    """Give the first sample a prompt that tries to break out of the JSON <script> block."""
    path = run_dir / "samples.jsonl"
    lines = path.read_text(encoding="utf-8").rstrip("\n").split("\n")  # not splitlines(): U+2028
    first = json.loads(lines[0])
    first["messages"] = [{"role": "user", "content": TRICKY_PROMPT}]
    lines[0] = json.dumps(first, ensure_ascii=False)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="session")
def run_a(tmp_path_factory) -> Path:
    d = write_synthetic_run(tmp_path_factory.mktemp("runs") / "run-a", n_items=600, model="synthetic/model-a", n_boot=50)
    add_tricky_sample(d)
    return d


@pytest.fixture(scope="session")
def run_b(tmp_path_factory) -> Path:
    return write_synthetic_run(
        tmp_path_factory.mktemp("runs") / "run-b", n_items=600, model="synthetic/model-b", skill=0.15, model_seed=7, n_boot=50
    )


@pytest.fixture(scope="session")
def payloads() -> tuple[str, str]:
    return XSS_SCRIPT, XSS_IMG
