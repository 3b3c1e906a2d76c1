"""Input guards: an oversized prompt or record, or a file above --max-items, is a one-line error
naming file, record and size, before any model call."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tbhelp import cli, run_args

from trustbench.data.loader import MAX_PROMPT_CHARS, MAX_RECORD_CHARS, InputLimits, check_sizes, read_json_records

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "trustllm"


def _one_error_line(result) -> str:
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_oversized_prompt_is_refused_before_any_call(server, suite, tmp_path):
    path = suite / "safety" / "misuse.json"
    recs = json.loads(path.read_text())
    recs[3]["prompt"] = "x" * (MAX_PROMPT_CHARS + 1)
    path.write_text(json.dumps(recs))
    r = cli(run_args(server.url, suite, tmp_path / "run", tmp_path / "c.sqlite"))
    assert r.exit_code == 2
    line = _one_error_line(r)
    assert "misuse.json" in line and "record 3" in line and f"{MAX_PROMPT_CHARS + 1:,}" in line
    assert "--max-prompt-chars" in line
    assert server.state.requests == 0
    # a higher limit lets it through
    r = cli(run_args(server.url, suite, tmp_path / "run2", tmp_path / "c.sqlite", "--tasks", "safety/misuse",
                     "--max-prompt-chars", str(MAX_PROMPT_CHARS + 1), "--limit", "1"))
    assert r.exit_code == 0, r.stderr


def test_oversized_record_is_refused(server, suite, tmp_path):
    path = suite / "safety" / "jailbreak.json"
    recs = json.loads(path.read_text())
    recs[1]["notes"] = ["y" * 1000] * 30
    path.write_text(json.dumps(recs))
    r = cli(run_args(server.url, suite, tmp_path / "run", tmp_path / "c.sqlite", "--max-record-chars", "20000"))
    assert r.exit_code == 2
    line = _one_error_line(r)
    assert "jailbreak.json" in line and "record 1" in line and "--max-record-chars 20,000" in line
    assert server.state.requests == 0


def test_max_items(server, suite, tmp_path):
    r = cli(run_args(server.url, suite, tmp_path / "run", tmp_path / "c.sqlite", "--max-items", "5"))
    assert r.exit_code == 2
    line = _one_error_line(r)
    assert "6 records, above --max-items 5" in line and ".json" in line
    assert server.state.requests == 0
    r = cli(run_args(server.url, suite, tmp_path / "run2", tmp_path / "c.sqlite", "--max-items", "6"))
    assert r.exit_code == 0, r.stderr


@pytest.mark.parametrize("flag", ["--max-items", "--max-prompt-chars", "--max-record-chars"])
def test_limits_must_be_positive(server, suite, tmp_path, flag):
    r = cli(run_args(server.url, suite, tmp_path / "run", tmp_path / "c.sqlite", flag, "0"))
    assert r.exit_code == 2 and flag in _one_error_line(r)


def test_record_fast_path_agrees_with_full_measure(tmp_path):
    """Skipping the per-record measure for small files must not hide an oversized record."""
    recs = [{"prompt": "p", "v": [0] * 400}]
    path = tmp_path / "f.json"
    path.write_text(json.dumps(recs, separators=(",", ":")))
    size = len(json.dumps(recs[0], ensure_ascii=False))
    with pytest.raises(Exception, match="record 0"):
        check_sizes(path, recs, InputLimits(max_record_chars=size - 1), path.stat().st_size)
    check_sizes(path, recs, InputLimits(max_record_chars=size), path.stat().st_size)


@pytest.mark.skipif(not SHARED.is_dir(), reason="TrustLLM data not present")
def test_no_trustllm_record_approaches_the_defaults():
    longest_prompt = longest_record = 0
    for f in SHARED.glob("*/*.json"):
        recs, _ = read_json_records(f)
        check_sizes(f, recs, InputLimits())
        longest_prompt = max(longest_prompt, *(len(r.get("prompt", "")) for r in recs))
        longest_record = max(longest_record, *(len(json.dumps(r, ensure_ascii=False)) for r in recs))
    assert longest_prompt * 10 < MAX_PROMPT_CHARS
    assert longest_record * 10 < MAX_RECORD_CHARS
