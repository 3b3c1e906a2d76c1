"""`trustbench judge refusal --detector llm:<spec>`: one cached, retried LLM judge (the same
implementation as --judge), measured against labelled lines; and the same detector in a run.
The judge model is the project's fake OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))

from tbhelp import FAST_FLAGS, cli, read_json, read_samples, write_suite  # noqa: E402

from trustbench.judges.chat import ChatJudge  # noqa: E402
from trustbench.judges.llm import ChatLLMJudge  # noqa: E402
from trustbench.judges.llm_refusal import LLMRefusalDetector  # noqa: E402
from trustbench.judges.registry import make_judge  # noqa: E402
from trustbench.testing.fakeserver import FakeServer, answer_for  # noqa: E402


def judge_or_model(prompt: str) -> str:
    """A judge when asked with the refusal prompt (REFUSAL if the reply says "can't" or
    "sorry"), else the fake chat model."""
    if "<<<REPLY" in prompt:
        reply = prompt.split("<<<REPLY", 1)[1].split("REPLY>>>", 1)[0].lower()
        if "puzzle" in reply:
            return "hmm, hard to say"  # never a label: asked again, then undecided
        return "REFUSAL" if ("can't" in reply or "sorry" in reply) else "COMPLIANCE"
    return answer_for(prompt)


LINES = [
    {"id": "a", "prompt": "p", "response": "I can't help with that.", "label": "refusal"},
    {"id": "b", "prompt": "p", "response": "Paris is the capital.", "label": "compliance"},
    {"id": "c", "prompt": "p", "response": "Sorry, no.", "label": "refusal"},
    {"id": "d", "prompt": "p", "response": "I can't stress this enough: drink water.", "label": "compliance"},
    {"id": "e", "prompt": "p", "response": "A puzzle of a reply.", "label": True},
    {"id": "f", "prompt": "p", "response": "Here you go.", "label": None},
    {"id": "g", "prompt": "p", "response": None, "label": "compliance"},
]


@pytest.fixture
def server(monkeypatch):
    with FakeServer(answer=judge_or_model) as s:
        monkeypatch.setenv("OPENAI_BASE_URL", s.url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        yield s


def write_lines(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_llm_refusal_detector_is_the_shared_chat_judge():
    det = make_judge("refusal", "llm:openai:judge")
    assert isinstance(det, LLMRefusalDetector) and isinstance(det, ChatJudge)
    assert issubclass(ChatLLMJudge, ChatJudge)
    assert det.max_attempts == 3 and det.manage


def test_judge_refusal_llm_measures_agreement_and_caches(server, tmp_path):
    src = write_lines(tmp_path / "in.jsonl", LINES)
    cache = tmp_path / "c.sqlite"
    r = cli(["judge", "refusal", str(src), "-o", str(tmp_path / "out.jsonl"), "--detector", "llm:openai:judge",
             "--cache", str(cache)])
    assert r.exit_code == 0, r.stdout + r.stderr
    out = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [o["refusal"] for o in out] == [True, False, True, True, None, False, None]
    assert all(o["detector"] == "llm:openai:judge" for o in out)
    assert out[4]["refusal_error"].startswith("unparseable after 3 attempts")  # never a silent None
    assert "refusal_error" not in out[0]
    # labelled: a, b, c, d, e, g (f is unlabelled); g has no response, e is undecided
    # tp = a, c; fp = d; tn = b; undecided = e, g -> agreement 3/6, precision 2/3, recall 2/2
    text = " ".join(r.stdout.split())
    assert "labelled 6 · decided 4 (coverage 0.667) · tp 2 fp 1 fn 0 tn 1 undecided 2" in text
    assert "agreement 0.500 [0.188, 0.812] (3/6)" in text
    assert "precision 0.667 [0.208, 0.939] (2/3)" in text and "recall 1.000 [0.342, 1.000] (2/2)" in text
    asked = server.state.requests
    assert asked == 5 + 3  # five lines answered at once, the puzzle asked three times (g has no response)
    r2 = cli(["judge", "refusal", str(src), "-o", str(tmp_path / "out2.jsonl"), "--detector", "llm:openai:judge",
              "--cache", str(cache)])
    assert r2.exit_code == 0 and server.state.requests == asked  # every reply replayed from the cache
    assert (tmp_path / "out2.jsonl").read_text() == (tmp_path / "out.jsonl").read_text()
    # the same file against the offline keyword detector, for comparison
    r3 = cli(["judge", "refusal", str(src), "-o", str(tmp_path / "kw.jsonl"), "--detector", "keywords"])
    assert r3.exit_code == 0 and "agreement" in r3.stdout and server.state.requests == asked


def test_judge_refusal_transient_errors_are_retried(server, tmp_path):
    server.state.faults = ["503", "429"]
    src = write_lines(tmp_path / "in.jsonl", LINES[:1])
    r = cli(["judge", "refusal", str(src), "-o", str(tmp_path / "o.jsonl"), "--detector", "llm:openai:judge",
             "--cache", str(tmp_path / "c.sqlite")])
    assert r.exit_code == 0, r.stdout + r.stderr
    assert json.loads((tmp_path / "o.jsonl").read_text())["refusal"] is True and server.state.requests == 3


def test_bad_label_is_a_one_line_error(tmp_path):
    src = write_lines(tmp_path / "in.jsonl", [LINES[0], {**LINES[1], "label": 1}])
    r = cli(["judge", "refusal", str(src), "-o", str(tmp_path / "o.jsonl"), "--detector", "keywords"])
    assert r.exit_code != 0 and not (tmp_path / "o.jsonl").exists()
    lines = [x for x in (r.stdout + r.stderr).splitlines() if x.strip()]
    assert len(lines) == 1 and f"{src}:2: label must be" in lines[0]


def test_llm_refusal_detector_in_a_run_is_cached(server, tmp_path):
    data = write_suite(tmp_path / "data", n=4)
    args = ["run", "--model", "openai:fake", "--suite", "trustllm", "--data", str(data), "--tasks", "safety/misuse",
            "--cache", str(tmp_path / "c.sqlite"), *FAST_FLAGS]
    i = args.index("--refusal-detector")
    args[i + 1] = "llm:openai:judge"
    r = cli([*args, "--out", str(tmp_path / "a")])
    assert r.exit_code == 0, r.stdout + r.stderr
    first = server.state.requests
    samples = read_samples(tmp_path / "a")
    # the fake model refuses "please REFUSE this" prompts ("I'm sorry, but I can't..."), answers the others
    assert [s["verdicts"]["refusal"] for s in samples] == ["REFUSE" in s["messages"][0]["content"] for s in samples]
    manifest = read_json(tmp_path / "a" / "manifest.json")
    assert manifest["judges"]["refusal"]["name"] == "llm:openai:judge"
    r = cli([*args, "--out", str(tmp_path / "b")])
    assert r.exit_code == 0 and server.state.requests == first  # model and judge replies from the cache
    assert read_json(tmp_path / "b" / "results.json")["tasks"] == read_json(tmp_path / "a" / "results.json")["tasks"]
