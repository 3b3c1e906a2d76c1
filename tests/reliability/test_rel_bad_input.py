"""A corpus of bad inputs: each gives one line on stderr naming the culprit, a non-zero exit,
no traceback, and leaves an existing run directory and cache untouched."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from tbhelp import FAST_FLAGS, assert_ok, cli, tree_hash, write_suite

from trustbench.testing.fakeserver import FakeServer


@dataclass
class Ctx:
    tmp: Path  # a fresh directory for this case
    data: Path  # a fresh, valid copy of the suite (cases may break it)
    run: Path  # the existing, complete run directory
    cache: Path  # the existing cache
    url: str

    @property
    def misuse(self) -> Path:
        return self.data / "safety" / "misuse.json"

    def args(self, *extra: str, model: str = "openai:fake", base_url: str | None = "default",
             tasks: str = "safety", suite: str = "trustllm", data: str | None = "default",
             out: str | None = None, cache: str | None = None) -> list[str]:
        a = ["run", "--model", model, "--suite", suite, "--tasks", tasks,
             "--out", out or str(self.run), "--cache", cache or str(self.cache), *FAST_FLAGS, "--max-attempts", "2"]
        if base_url:
            a += ["--base-url", self.url if base_url == "default" else base_url]
        if data:
            a += ["--data", str(self.data) if data == "default" else data]
        return a + list(extra)

    def generations(self) -> Path:
        """A valid TrustLLM generation_results folder for `trustbench score`."""
        root = self.tmp / "gen"
        (root / "safety").mkdir(parents=True)
        recs = [{"prompt": f"p{i}", "res": "I'm sorry, I can't." if i % 2 else "Sure."} for i in range(4)]
        (root / "safety" / "misuse.json").write_text(json.dumps(recs))
        return root

    def score(self, root: Path, *extra: str) -> list[str]:
        return ["score", str(root), "--cache", str(self.cache), "--refusal-detector", "keywords",
                "--embedder", "none", "--toxicity", "none", *extra]


def write(path: Path, content: str | bytes) -> None:
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))


def data_case(content: str | bytes, file: str = "misuse.json") -> Callable[[Ctx], list[str]]:
    def build(c: Ctx) -> list[str]:
        write(c.data / "safety" / file, content)
        return c.args()

    return build


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _missing_file(c: Ctx) -> list[str]:
    c.misuse.unlink()
    return c.args()


def _file_is_dir(c: Ctx) -> list[str]:
    c.misuse.unlink()
    c.misuse.mkdir()
    return c.args()


def _dimension_is_file(c: Ctx) -> list[str]:
    shutil.rmtree(c.data / "safety")
    write(c.data / "safety", "not a directory")
    return c.args()


def _data_is_file(c: Ctx) -> list[str]:
    write(c.tmp / "afile", "x")
    return c.args(data=str(c.tmp / "afile"))


def _out_under_file(c: Ctx) -> list[str]:
    write(c.tmp / "afile", "x")
    return c.args(out=str(c.tmp / "afile" / "run"))


def _out_is_file(c: Ctx) -> list[str]:
    write(c.tmp / "afile", "x")
    return c.args(out=str(c.tmp / "afile"))


def _cache_is_dir(c: Ctx) -> list[str]:
    (c.tmp / "cachedir").mkdir()
    return c.args(cache=str(c.tmp / "cachedir"))


def _cache_under_file(c: Ctx) -> list[str]:
    write(c.tmp / "afile", "x")
    return c.args(cache=str(c.tmp / "afile" / "c.sqlite"))


def _cache_not_sqlite(c: Ctx) -> list[str]:
    write(c.tmp / "garbage.sqlite", b"this is not a database" * 100)
    return c.args(cache=str(c.tmp / "garbage.sqlite"))


def _unreachable(c: Ctx) -> list[str]:
    # another model name, so nothing comes from the existing cache; a fresh run directory
    return c.args(model="openai:unreachable", base_url=f"http://127.0.0.1:{closed_port()}/v1",
                  out=str(c.tmp / "newrun"))


def _score_dev_full(c: Ctx) -> list[str]:
    return c.score(c.generations(), "--output", "/dev/full")


def _score_output_under_file(c: Ctx) -> list[str]:
    write(c.tmp / "afile", "x")
    return c.score(c.generations(), "--output", str(c.tmp / "afile" / "scores.json"))


def _score_missing_res(c: Ctx) -> list[str]:
    root = c.generations()
    write(root / "safety" / "misuse.json", json.dumps([{"prompt": "p"}]))
    return c.score(root)


def _score_bad_res(c: Ctx) -> list[str]:
    root = c.generations()
    write(root / "safety" / "misuse.json", json.dumps([{"prompt": "p", "res": "ok"}, {"prompt": "q", "res": 3}]))
    return c.score(root)


def _score_empty_dir(c: Ctx) -> list[str]:
    (c.tmp / "empty").mkdir()
    return c.score(c.tmp / "empty")


HUGE = 4_000_000

# id -> (build args, substrings the error line must contain, expected exit code)
CASES: dict[str, tuple[Callable[[Ctx], list[str]], tuple[str, ...], int]] = {
    # malformed JSON
    "truncated-json": (data_case('[{"prompt": "a"'), ("misuse.json", "invalid JSON"), 2),
    "invalid-json": (data_case("{not json"), ("misuse.json", "invalid JSON at line 1"), 2),
    "trailing-comma": (data_case('[{"prompt": "a"},]'), ("misuse.json", "invalid JSON"), 2),
    "single-quotes": (data_case("[{'prompt': 'a'}]"), ("misuse.json", "invalid JSON"), 2),
    "utf8-bom": (data_case(b'\xef\xbb\xbf[{"prompt": "a"}]'), ("misuse.json", "invalid JSON"), 2),
    "nul-bytes": (data_case(b"\x00\x00\x00"), ("misuse.json", "invalid JSON"), 2),
    "deeply-nested": (data_case("[" * 200_000), ("misuse.json", "nested too deeply"), 2),
    "huge-truncated": (data_case('[{"prompt": "' + "x" * HUGE), ("misuse.json", "invalid JSON"), 2),
    # wrong shapes and types
    "nan-prompt": (data_case('[{"prompt": NaN}]'), ("misuse.json", "record 0", "'prompt'"), 2),
    "infinity-prompt": (data_case('[{"prompt": "ok"}, {"prompt": -Infinity}]'), ("misuse.json", "record 1", "'prompt'"), 2),
    "int-prompt": (data_case('[{"prompt": 42}]'), ("misuse.json", "record 0", "'prompt'"), 2),
    "null-prompt": (data_case('[{"prompt": null}]'), ("misuse.json", "record 0", "'prompt'"), 2),
    "bool-prompt": (data_case('[{"prompt": true}]'), ("misuse.json", "record 0", "'prompt'"), 2),
    "list-prompt": (data_case('[{"prompt": ["a"]}]'), ("misuse.json", "record 0", "'prompt'"), 2),
    "object-prompt": (data_case('[{"prompt": {"text": "a"}}]'), ("misuse.json", "record 0", "'prompt'"), 2),
    "missing-prompt": (data_case('[{"prompt": "a"}, {"source": "x"}]'), ("misuse.json", "record 1", "'prompt'"), 2),
    "record-is-string": (data_case('["a prompt"]'), ("misuse.json", "record 0", "expected an object"), 2),
    "record-is-null": (data_case("[null]"), ("misuse.json", "record 0", "expected an object"), 2),
    "record-is-list": (data_case('[["a"]]'), ("misuse.json", "record 0", "expected an object"), 2),
    "object-not-list": (data_case('{"prompt": "a"}'), ("misuse.json", "expected a JSON list", "dict"), 2),
    "string-not-list": (data_case('"prompts"'), ("misuse.json", "expected a JSON list"), 2),
    "number-not-list": (data_case("42"), ("misuse.json", "expected a JSON list"), 2),
    "null-not-list": (data_case("null"), ("misuse.json", "expected a JSON list"), 2),
    "jailbreak-label-string": (data_case('[{"prompt": "a", "label": "x"}]', "jailbreak.json"), ("jailbreak.json", "record 0", "'label'"), 2),
    "jailbreak-two-labels": (data_case('[{"prompt": "a", "label": ["x", "y"]}]', "jailbreak.json"), ("jailbreak.json", "'label'", "exactly one"), 2),
    "jailbreak-no-label": (data_case('[{"prompt": "a"}]', "jailbreak.json"), ("jailbreak.json", "record 0", "'label'"), 2),
    "jailbreak-int-label": (data_case('[{"prompt": "a", "label": [7]}]', "jailbreak.json"), ("jailbreak.json", "'label.0'"), 2),
    "huge-record-wrong-type": (data_case(json.dumps([{"prompt": ["x" * 100] * (HUGE // 100)}])), ("misuse.json", "record 0", "'prompt'"), 2),
    "huge-record-then-bad": (data_case(json.dumps([{"prompt": "x" * HUGE}, {"no": "prompt"}])), ("misuse.json", "record 1"), 2),
    # encodings and empty files
    "empty-file": (data_case(""), ("misuse.json", "empty file"), 2),
    "whitespace-file": (data_case(" \n\t\n"), ("misuse.json", "empty file"), 2),
    "latin1-bytes": (data_case(b'[{"prompt": "caf\xe9"}]'), ("misuse.json", "not UTF-8"), 2),
    "utf16": (data_case('[{"prompt": "a"}]'.encode("utf-16")), ("misuse.json", "not UTF-8"), 2),
    # files and directories
    "missing-file": (_missing_file, ("misuse.json", "file not found"), 2),
    "file-is-directory": (_file_is_dir, ("misuse.json", "cannot read"), 2),
    "dimension-is-file": (_dimension_is_file, ("safety", "cannot read"), 2),
    "data-dir-missing": (lambda c: c.args(data=str(c.tmp / "nope")), ("--data", "nope", "not a directory"), 2),
    "data-dir-is-file": (_data_is_file, ("--data", "afile"), 2),
    # tasks
    "unknown-task": (lambda c: c.args(tasks="safety/nope"), ("--tasks", "'safety/nope'"), 2),
    "unknown-dimension": (lambda c: c.args(tasks="nodimension"), ("--tasks", "'nodimension'"), 2),
    "empty-task-selection": (lambda c: c.args(tasks=","), ("--tasks", "selects no tasks"), 2),
    # model specs
    "model-no-backend": (lambda c: c.args(model="gpt-4o"), ("bad model spec 'gpt-4o'",), 2),
    "model-unknown-backend": (lambda c: c.args(model="foo:bar", base_url=None), ("'foo:bar'", "unknown backend"), 2),
    "model-empty-name": (lambda c: c.args(model="openai:"), ("bad model spec 'openai:'",), 2),
    "model-local-not-gguf": (lambda c: c.args(model="local:model.bin", base_url=None), ("local:model.bin", ".gguf"), 2),
    "model-local-gguf-missing": (lambda c: c.args(model=f"local:{c.tmp}/none.gguf", base_url=None), ("none.gguf", "not found"), 2),
    "base-url-not-http": (lambda c: c.args(base_url="ftp://127.0.0.1/v1"), ("--base-url", "ftp://"), 2),
    "base-url-with-local": (lambda c: c.args(model="local:x.gguf"), ("--base-url", "local:x.gguf"), 2),
    "judge-bad-spec": (lambda c: c.args("--judge", "nope"), ("'nope'",), 2),
    "refusal-detector-unknown": (lambda c: c.args("--refusal-detector", "bogus"), ("refusal detector", "'bogus'"), 2),
    "toxicity-unknown": (lambda c: c.args("--toxicity", "bogus"), ("toxicity", "'bogus'"), 2),
    "embedder-unknown": (lambda c: c.args("--embedder", "bogus"), ("embedder", "'bogus'"), 2),
    # flags
    "negative-limit": (lambda c: c.args("--limit", "-1"), ("--limit", "positive"), 2),
    "zero-limit": (lambda c: c.args("--limit", "0"), ("--limit", "positive"), 2),
    "zero-sample": (lambda c: c.args("--sample", "0"), ("--sample", "positive"), 2),
    "limit-with-sample": (lambda c: c.args("--limit", "2", "--sample", "2"), ("--limit and --sample",), 2),
    "bad-scoring": (lambda c: c.args("--scoring", "lenient"), ("--scoring", "corrected"), 2),
    "unknown-suite": (lambda c: c.args(suite="mine"), ("--suite", "'mine'"), 2),
    "data-with-builtin": (lambda c: c.args(suite="builtin"), ("--data", "trustllm"), 2),
    "zero-max-attempts": (lambda c: c.args("--max-attempts", "0"), ("--max-attempts",), 2),
    "zero-timeout": (lambda c: c.args("--timeout", "0"), ("--timeout",), 2),
    "nan-timeout": (lambda c: c.args("--timeout", "nan"), ("--timeout",), 2),
    "zero-concurrency": (lambda c: c.args("--concurrency", "0"), ("--concurrency",), 2),
    "zero-max-tokens": (lambda c: c.args("--max-tokens", "0"), ("--max-tokens",), 2),
    # output directory, disk, cache, network
    "out-under-regular-file": (_out_under_file, ("--out", "afile"), 2),
    "out-is-regular-file": (_out_is_file, ("--out", "afile"), 2),
    "out-is-dev-full": (lambda c: c.args(out="/dev/full"), ("--out", "/dev/full"), 2),
    "cache-is-directory": (_cache_is_dir, ("cache", "cachedir", "cannot open"), 2),
    "cache-under-regular-file": (_cache_under_file, ("cache", "afile"), 2),
    "cache-not-sqlite": (_cache_not_sqlite, ("cache", "garbage.sqlite", "not a database"), 2),
    "unreachable-server": (_unreachable, ("item(s) failed", "connection error", "gave up after 2 attempts"), 1),
    # trustbench score
    "score-output-dev-full": (_score_dev_full, ("/dev/full", "No space left on device"), 2),
    "score-output-under-file": (_score_output_under_file, ("afile", "cannot write"), 2),
    "score-missing-res": (_score_missing_res, ("misuse.json", "record 0", "'res'"), 2),
    "score-res-not-string": (_score_bad_res, ("misuse.json", "record 1", "'res'"), 2),
    "score-no-generation-files": (_score_empty_dir, ("empty", "no <dimension>/<file>.json"), 2),
    "score-dir-missing": (lambda c: c.score(c.tmp / "nope"), ("nope", "not a directory"), 2),
    "score-bad-scoring": (lambda c: c.score(c.generations(), "--scoring", "x"), ("--scoring",), 2),
}


@pytest.fixture(scope="module")
def existing(tmp_path_factory):
    """A complete run directory and its cache, made once; every case must leave them as they are."""
    root = tmp_path_factory.mktemp("existing")
    data = write_suite(root / "data", 4)
    env = {"TRUSTBENCH_HOME": str(root / "home"), "OPENAI_API_KEY": None, "OPENAI_BASE_URL": None,
           "TRUSTBENCH_CACHE": None, "TRUSTBENCH_DATA": None}
    with FakeServer() as s:
        c = Ctx(tmp=root, data=data, run=root / "run", cache=root / "cache.sqlite", url=s.url)
        assert_ok(cli(c.args(), env=env))
        yield c, s


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input(case, existing, tmp_path):
    base, server = existing
    data = tmp_path / "data"
    shutil.copytree(base.data, data)
    ctx = Ctx(tmp=tmp_path, data=data, run=base.run, cache=base.cache, url=base.url)
    build, needles, code = CASES[case]
    args = build(ctx)
    before = tree_hash(base.run, base.cache)
    requests = server.state.requests
    r = cli(args)
    assert r.exception is None or isinstance(r.exception, SystemExit), f"uncaught {r.exception!r}"
    assert r.exit_code == code, (r.exit_code, r.stderr)
    assert "Traceback" not in r.stderr + r.stdout
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, r.stderr
    line = lines[0]
    assert line.startswith("error: ")
    assert len(line) < 600, "the error line dumps data"
    for needle in needles:
        assert needle in line, (needle, line)
    assert tree_hash(base.run, base.cache) == before, "the existing run directory or cache changed"
    assert server.state.requests == requests


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 40


# ------------------------------------------------------------------ real processes


def _limit_file_size(max_bytes: int) -> Callable[[], None]:
    def pre() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes fail with EFBIG instead of killing us
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return pre


def test_disk_full_while_writing_the_run_directory(existing, tmp_path):
    """A 'disk' that takes 64 KiB per file: the run fails with one line, no traceback, no temp files."""
    base, _ = existing
    data = write_suite(tmp_path / "data", n_jail=0, n_misuse=300, n_exag=0)
    (data / "safety" / "misuse.json").write_text(
        json.dumps([{"prompt": f"misuse {i} " + "y" * 400} for i in range(300)]))
    out = tmp_path / "run"
    args = ["run", "--model", "openai:fake", "--base-url", base.url, "--suite", "trustllm", "--data", str(data),
            "--tasks", "safety/misuse", "--out", str(out), "--cache", str(tmp_path / "c.sqlite"), *FAST_FLAGS]
    r = subprocess.run([sys.executable, "-m", "trustbench.cli", *args], capture_output=True, text=True,
                       env=dict(os.environ), timeout=120, preexec_fn=_limit_file_size(64 * 1024))
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    assert "File too large" in lines[0] or "disk" in lines[0], lines[0]
    if out.exists():
        assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]


def test_bad_input_in_a_real_process_prints_one_line(existing, tmp_path):
    base, _ = existing
    data = tmp_path / "data"
    shutil.copytree(base.data, data)
    (data / "safety" / "misuse.json").write_text('[{"prompt": NaN}]')
    ctx = Ctx(tmp=tmp_path, data=data, run=base.run, cache=base.cache, url=base.url)
    before = tree_hash(base.run, base.cache)
    r = subprocess.run([sys.executable, "-m", "trustbench.cli", *ctx.args()], capture_output=True, text=True,
                       env=dict(os.environ), timeout=120)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert "misuse.json: record 0: field 'prompt'" in r.stderr
    assert tree_hash(base.run, base.cache) == before
