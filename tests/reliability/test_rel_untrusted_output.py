"""Untrusted output: model text and server error bodies never put raw control characters on
the terminal, and report.html shows <script> payloads as text."""

from __future__ import annotations

import base64
import gzip
import importlib.util
import json
import os
import re

import pytest
from tbhelp import cli, cli_proc, read_samples, run_args, write_suite

from trustbench.testing.fakeserver import FakeServer

EVIL = "\x1b[31mRED\x1b]0;pwned-title\x07\x1b[2J\r\x08\x9b<script>alert('xss')</script><img src=x onerror=alert(2)>"
EVIL_BODY = ('{"error": "\x1b]0;title\x07\x1b[31m' + "</script><script>alert(3)</script>" + '"}').encode()
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # everything but \t and \n


def evil_answer(prompt: str) -> str:
    return f"{EVIL} {prompt}"


def assert_no_control(text: str, where: str) -> None:
    m = CONTROL.search(text)
    assert m is None, f"raw control character {m.group()!r} on {where}: {text[max(0, m.start() - 40): m.end() + 40]!r}"


def test_terminal_output_escapes_model_text_and_error_bodies(tmp_path):
    """A real process: stdout and stderr bytes carry no ESC/BEL/CR/C1 from the server."""
    data = write_suite(tmp_path / "data", 3)
    with FakeServer(answer=evil_answer, error_body=EVIL_BODY, faults=["400", "500", "401"]) as s:
        args = [a for a in run_args(s.url, data, tmp_path / "run", tmp_path / "c.sqlite", "--concurrency", "1",
                                    "--max-attempts", "2") if a != "--no-report"]
        r = cli_proc(args, env=dict(os.environ))
    assert r.returncode == 1
    stderr = r.stderr.decode()
    assert "item(s) failed" in stderr and "HTTP 400" in stderr  # the server body is shown ...
    assert "\\x1b]0;title\\x07" in stderr  # ... with its control characters made visible
    assert_no_control(r.stdout.decode(), "stdout")
    assert_no_control(stderr, "stderr")
    # Samples keep the model's text verbatim: escaping is for display, data stays exact.
    samples = read_samples(tmp_path / "run")
    assert any(x["response"] and x["response"].startswith(EVIL) for x in samples)
    for x in samples:
        if x["error"]:
            assert_no_control(x["error"], "a stored error reason")


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--suite", "trustllm", "--data", "/nonexistent/\x1b[31mred\x07dir"],
        ["run", "--model", "openai:x", "--base-url", "ftp://\x1b]0;t\x07"],
        ["run", "--tasks", "safety/\x1b[2Jx"],
        ["score", "/nonexistent/\x1b[31m\r\nfake second line"],
    ],
    ids=["data-path", "base-url", "tasks", "score-dir"],
)
def test_errors_echoing_user_input_are_escaped(args):
    r = cli(args)
    assert r.exit_code == 2
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, r.stderr
    assert_no_control(r.stderr, "stderr")


def _sample_blocks(html: str) -> list[str]:
    """The report's sample data: JSON blocks, or gzip+base64 blocks decoded to their JSON text
    (whose <, > and & stay escaped as \\u003c, \\u003e, \\u0026)."""
    out = re.findall(r"<script[^>]*type=\"application/json\"[^>]*>(.*?)</script>", html, re.S)
    for blob in re.findall(r"<script[^>]*data-encoding=\"gzip\+base64\"[^>]*>(.*?)</script>", html, re.S):
        out.append(gzip.decompress(base64.b64decode(blob)).decode("utf-8"))
    return out


@pytest.mark.skipif(importlib.util.find_spec("trustbench.report") is None, reason="trustbench.report not in this build")
def test_report_shows_script_payloads_as_text(tmp_path):
    data = write_suite(tmp_path / "data", 3)
    counts = {}
    for name, answer in (("benign", None), ("evil", evil_answer)):
        with FakeServer(answer=answer, faults=["400"], error_body=EVIL_BODY) as s:
            args = [a for a in run_args(s.url, data, tmp_path / name, tmp_path / f"{name}.sqlite",
                                        "--concurrency", "1", "--max-attempts", "1") if a != "--no-report"]
            r = cli(args)
        assert r.exit_code == 1, r.stderr
        html = (tmp_path / name / "report.html").read_text(encoding="utf-8")
        counts[name] = (len(re.findall(r"<script", html, re.I)), len(re.findall(r"<img", html, re.I)),
                        len(re.findall(r"</script", html, re.I)))
        if name == "evil":
            for payload in ("<script>alert('xss')", "</script><script>alert(3)", "<img src=x onerror"):
                assert payload not in html, payload
            # the payload is there, as data (compressed sample block), for the browser to render as text
            data_text = "".join(_sample_blocks(html))
            assert "alert('xss')" in data_text and "<script" not in data_text
    assert counts["evil"] == counts["benign"], "model text added markup to the report"


@pytest.mark.skipif(importlib.util.find_spec("trustbench.report") is None, reason="trustbench.report not in this build")
def test_report_sample_data_survives_json_roundtrip(tmp_path):
    """The samples embedded in report.html decode back to the exact model text."""
    data = write_suite(tmp_path / "data", 2)
    with FakeServer(answer=evil_answer) as s:
        args = [a for a in run_args(s.url, data, tmp_path / "run", tmp_path / "c.sqlite") if a != "--no-report"]
        assert cli(args).exit_code == 0
    html = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    blocks = _sample_blocks(html)
    assert blocks, "report.html embeds no sample data block"
    def strings(obj):
        if isinstance(obj, str):
            yield obj
        elif isinstance(obj, dict):
            for v in obj.values():
                yield from strings(v)
        elif isinstance(obj, list):
            for v in obj:
                yield from strings(v)

    texts = [t for blk in blocks for t in strings(json.loads(blk))]
    assert any(t.startswith(EVIL) for t in texts)
