"""The worked examples of docs/adding-a-model.md and docs/adding-a-judge.md, run as written: the
modules and entry points on those pages become a toy distribution (a *.dist-info with
entry_points.txt on sys.path, as `pip install` would leave it), then a run uses both plugins."""

from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))

from tbhelp import FAST_FLAGS, cli, read_json, read_samples, write_suite  # noqa: E402

DOCS = Path(__file__).resolve().parents[2] / "docs"


def blocks(page: Path, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", page.read_text(encoding="utf-8"), re.S)


@pytest.fixture
def toy_dist(tmp_path, monkeypatch) -> Path:
    """Install the pages' example package into tmp_path/site (importable, with entry points)."""
    site = tmp_path / "site"
    info = site / "trustbench_toy-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: trustbench-toy\nVersion: 0.1\n")
    groups: dict[str, dict[str, str]] = {}
    for page in ("adding-a-model.md", "adding-a-judge.md"):
        (code,) = blocks(DOCS / page, "python")
        (toml,) = blocks(DOCS / page, "toml")
        eps = tomllib.loads(toml)["project"]["entry-points"]
        for group, entries in eps.items():
            groups.setdefault(group, {}).update(entries)
            for value in entries.values():
                (site / (value.split(":")[0] + ".py")).write_text(code, encoding="utf-8")
    (info / "entry_points.txt").write_text(
        "".join(f"[{g}]\n" + "".join(f"{k} = {v}\n" for k, v in e.items()) + "\n" for g, e in groups.items()))
    monkeypatch.syspath_prepend(str(site))
    for mod in ("toy_backend", "toy_judges"):
        sys.modules.pop(mod, None)
    return site


def run_args(data: Path, tmp_path: Path, *extra: str) -> list[str]:
    flags = list(FAST_FLAGS)
    i = flags.index("--refusal-detector")
    del flags[i : i + 2]
    return ["run", "--suite", "trustllm", "--data", str(data), "--tasks", "safety/jailbreak",
            "--cache", str(tmp_path / "c.sqlite"), *flags, *extra]


def test_registries_list_the_plugins_with_their_source(toy_dist):
    from trustbench.judges.registry import registry
    from trustbench.models.spec import backends

    assert backends()["toy"].source == "trustbench-toy 0.1" and backends()["openai"].source == "trustbench"
    entries = {(e.kind, e.name): e.source for e in registry()}
    assert entries[("refusal", "toy-words")] == "trustbench-toy 0.1"
    assert entries[("refusal", "keywords")] == "trustbench"


def test_toy_model_and_toy_judge_run_end_to_end(toy_dist, tmp_path):
    data = write_suite(tmp_path / "data", n=6)
    out = tmp_path / "run"
    r = cli(run_args(data, tmp_path, "--model", "toy:echo", "--refusal-detector", "toy-words:sorry", "--out", str(out)))
    assert r.exit_code == 0, r.stdout + r.stderr
    samples = read_samples(out)
    assert len(samples) == 6 and all(s["error"] is None for s in samples)
    bomb = ["bomb" in s["messages"][0]["content"] for s in samples]
    assert sum(bomb) == 2  # jailbreak records 0 and 3
    assert [s["response"].startswith("I'm sorry") for s in samples] == bomb  # the toy model answered
    assert [s["verdicts"]["refusal"] for s in samples] == bomb  # the toy judge decided
    assert all(s["judges"]["refusal"] == "toy-words:sorry" for s in samples)
    manifest = read_json(out / "manifest.json")
    assert manifest["model"]["identity"] == {"backend": "toy", "model": "echo"}
    assert manifest["judges"]["refusal"] == {"kind": "refusal", "name": "toy-words:sorry", "version": "1",
                                             "words": ["sorry"]}
    metrics = read_json(out / "results.json")["tasks"]["safety/jailbreak"]["metrics"]
    rta = next(m for k, m in metrics.items() if "rta" in k.lower() or "refus" in k.lower())
    assert rta["value"] == pytest.approx(2 / 6) and rta["n"] == 6


def test_toy_judge_in_judge_refusal(toy_dist, tmp_path):
    src = tmp_path / "in.jsonl"
    rows = [{"prompt": "p", "response": "Sorry, no.", "label": "refusal"},
            {"prompt": "p", "response": "Here it is.", "label": "compliance"},
            {"prompt": "p", "response": "I cannot do that.", "label": "refusal"}]
    src.write_text("".join(json.dumps(x) + "\n" for x in rows))
    r = cli(["judge", "refusal", str(src), "-o", str(tmp_path / "o.jsonl"), "--detector", "toy-words:sorry",
             "--cache", str(tmp_path / "c.sqlite")])
    assert r.exit_code == 0, r.stdout + r.stderr
    assert [json.loads(x)["refusal"] for x in (tmp_path / "o.jsonl").read_text().splitlines()] == [True, False, False]
    assert "agreement 0.667" in r.stdout and "recall 0.500" in r.stdout


def test_plugin_errors_are_one_line(toy_dist, tmp_path):
    data = write_suite(tmp_path / "data", n=2)
    cases = [
        (["--model", "toy:echo", "--refusal-detector", "keywords", "--toxicity", "toy-words"], "gives 'refusal' verdicts"),
        (["--model", "nope:x", "--refusal-detector", "keywords"], "unknown backend 'nope'"),
        (["--model", "toy:echo", "--refusal-detector", "nope"], "plugins: toy-words"),
    ]
    for extra, expected in cases:
        args = run_args(data, tmp_path, "--out", str(tmp_path / "r"))
        if "--toxicity" in extra:  # replace FAST_FLAGS' --toxicity none
            i = args.index("--toxicity")
            del args[i : i + 2]
        r = cli([*args, *extra])
        lines = [x for x in (r.stdout + r.stderr).splitlines() if x.strip()]
        assert r.exit_code != 0 and len(lines) == 1 and expected in lines[0], (extra, r.stdout, r.stderr)
        print(lines[0])
    r = cli(["run", "--model", "nope:x", "--tasks", "safety/jailbreak"])
    assert "(plugins: toy)" in r.stdout + r.stderr  # the unknown-backend error lists the installed plugins


NEW_KIND = '''
from trustbench.core.judge import JudgeBase, Verdict


class LengthJudge(JudgeBase):
    """A judge of a kind of its own: the number of words of a response."""

    kind = "length"

    def __init__(self, argument: str = ""):
        self.name = "words"

    async def answer(self, queries, attempt):
        return [{"words": len(q.text.split())} for q in queries]

    def decode(self, query, record):
        return Verdict(record["words"])
'''


def test_a_judge_of_a_new_kind_serves_tasks_that_ask_for_it(toy_dist):
    import asyncio

    from trustbench.engine.judging import apply_judges
    from trustbench.engine.runner import RunConfig, build_judges
    from trustbench.tasks.base import Item, JudgeRequest, Task, TaskScore

    (toy_dist / "toy_length.py").write_text(NEW_KIND)
    info = next(toy_dist.glob("*.dist-info"))
    eps = info / "entry_points.txt"
    eps.write_text(eps.read_text().replace("[trustbench.judges]\n", "[trustbench.judges]\nwords = toy_length:LengthJudge\n"))
    assert "words = toy_length:LengthJudge" in eps.read_text()
    task = Task(dimension="safety", file="toy.json", description="toy", temperature=0.0,
                score=lambda items, mode: TaskScore({}),
                judges=lambda rec, resp: [JudgeRequest("n_words", "length", text=resp)])  # type: ignore[arg-type]
    judges = build_judges(RunConfig(refusal_detector="keywords", embedder="none", toxicity="none"), None)
    assert judges.identities()["length"] == {"kind": "length", "name": "words", "version": "1"}
    items = [Item("safety/toy", str(i), i, {"prompt": "p"}, r) for i, r in enumerate(["a b c", "one"])]
    out, notes = asyncio.run(apply_judges(task, items, judges))
    assert [it.verdicts["n_words"] for it in out] == [3, 1] and notes == [{}, {}]
