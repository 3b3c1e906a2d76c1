"""The suite-wide policy in tests/conftest.py: under CI=true a skipped test fails."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

CONFTEST = Path(__file__).with_name("conftest.py")
TESTS = """
import pytest

def test_runs():
    assert True

@pytest.mark.skipif(True, reason="chromedriver not installed")
def test_needs_browser():
    pass

def test_needs_package():
    pytest.importorskip("no_such_package_for_trustbench")

@pytest.mark.xfail(reason="known", strict=True)
def test_known_failure():
    assert False
"""


def _pytest(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess:
    shutil.copy(CONFTEST, tmp_path / "conftest.py")
    (tmp_path / "test_policy_sample.py").write_text(TESTS)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", str(tmp_path)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_skips_fail_under_ci(tmp_path):
    proc = _pytest(tmp_path, "true")
    assert proc.returncode == 1, proc.stdout
    assert "1 passed" in proc.stdout and "1 xfailed" in proc.stdout
    assert "skipped under CI=true" in proc.stdout and "chromedriver not installed" in proc.stdout
    assert "no_such_package_for_trustbench" in proc.stdout
    assert " skipped" not in proc.stdout.splitlines()[-1]


def test_skips_stay_skips_outside_ci(tmp_path):
    proc = _pytest(tmp_path, None)
    assert proc.returncode == 0, proc.stdout
    assert "1 passed, 2 skipped, 1 xfailed" in proc.stdout.splitlines()[-1]
