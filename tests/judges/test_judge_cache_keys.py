"""Judge verdicts cached before the judge protocol (one caching wrapper for every judge) are
still found: the keys below were computed with the previous code (commit e4f206e), where each
judge built its own keys. Every judge points at a closed port, so only the cache can answer."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from trustbench.core.cache import Cache
from trustbench.core.judge import CachedJudge, Query
from trustbench.judges.embeddings import MiniLMEmbedder, OpenAIEmbedder
from trustbench.judges.llm import ChatLLMJudge
from trustbench.judges.toxicity import OfflineToxicity, PerspectiveToxicity
from trustbench.models.base import Completion, GenParams, Model
from trustbench.models.openai_http import OpenAIChatModel

CLOSED = "http://127.0.0.1:9/v1"  # discard port: nothing answers
FIELDS = {"question": "What is the capital of France?", "answers": ["Paris", "the city of Paris"],
          "response": "It is Paris."}
OLD_KEYS = {
    "llm_attempt0": "42616460eb03bcbcde8119629a45d7d8533c283af248f5fcad9c0713bfce6d83",
    "llm_attempt1": "a0045ead637821bce0163a71988ecb23951d4e72e7af4c9d5fa7b72a51c182e8",
    "minilm": "5543152c1ce1a6d271410ff850db5efab4e923e8d3335beb1e00f80e6e712f47",  # "The cat sat."
    "openai_embedding": "aafdc9209caf38110746995187bc34dcbe678fc0e662f47ffbefb4a23118b3fc",  # "alpha"
    "perspective": "706793e788f2dd8d0961368130dd971aba94230429c49f9ba406ca70de365c25",  # "you idiot"
    "offline_toxicity": "9165be2a1709ff36bd74196f9fad2beacf50a0931b4ee3a7f6afa9592bb17864",  # "you idiot", version 1
}


class Scripted(Model):
    """Looks like openai:judge-model to the cache; answers YES."""

    spec = "openai:judge-model"

    def __init__(self) -> None:
        self.calls = 0

    def identity(self):
        return {"backend": "openai", "model": "judge-model"}

    async def complete(self, messages, params: GenParams) -> Completion:
        self.calls += 1
        return Completion("YES")


@pytest.fixture
def cache(tmp_path):
    c = Cache(tmp_path / "c.sqlite")
    yield c
    c.close()


def test_llm_judge_replays_old_keys_through_both_paths(cache):
    from trustbench.tasks.registry import all_tasks

    all_tasks()  # the tasks register their judge prompts ("qa_correct" is internal.py's)
    cache.put(OLD_KEYS["llm_attempt0"], {"reply": "maybe", "label": None, "template": "qa_correct",
                                         "version": "1", "attempt": 0}, kind="judge")
    cache.put(OLD_KEYS["llm_attempt1"], {"reply": "NO", "label": "NO", "template": "qa_correct",
                                         "version": "1", "attempt": 1}, kind="judge")
    model = OpenAIChatModel("judge-model", [CLOSED], api_key="k", spec="openai:judge-model")
    judge = ChatLLMJudge(model, cache)
    v = asyncio.run(judge.judge("qa_correct", FIELDS))
    assert v.reply == "NO" and v.error is None and judge.requests == 0 and judge.cache_hits == 2
    # the engine's path: the same judge inside the wrapper the engine applies
    engine_side = CachedJudge(ChatLLMJudge(model, None), cache)
    (ev,) = asyncio.run(engine_side.run([Query(template="qa_correct", fields=FIELDS)]))
    assert ev.value == "NO" and engine_side.hits == 2


def test_llm_judge_writes_the_old_key_and_value(cache):
    model = Scripted()
    v = asyncio.run(ChatLLMJudge(model, cache).judge("qa_correct", FIELDS))
    assert v.reply == "YES" and model.calls == 1
    assert cache.get(OLD_KEYS["llm_attempt0"]) == {"reply": "YES", "label": "YES", "template": "qa_correct",
                                                    "version": "1", "attempt": 0}
    kinds = sqlite3.connect(cache.path).execute("SELECT kind FROM responses").fetchall()
    assert kinds == [("judge",)]


def test_embedding_and_toxicity_rows_keep_their_kind(cache):
    emb = OpenAIEmbedder("m", CLOSED, api_key="k", cache=cache)
    emb.embed_uncached = lambda texts: [[0.0] for _ in texts]  # no server needed
    emb.embed(["a"])
    tox = PerspectiveToxicity("k", CLOSED, cache=cache, qps=0)
    tox.score_uncached = lambda texts: [0.5 for _ in texts]
    tox.score(["b"])
    kinds = sorted(k for (k,) in sqlite3.connect(cache.path).execute("SELECT kind FROM responses"))
    assert kinds == ["embedding", "toxicity"]


def test_embedders_replay_old_keys(cache):
    cache.put(OLD_KEYS["openai_embedding"], {"vector": [0.25, 0.5]}, kind="embedding")
    cache.put(OLD_KEYS["minilm"], {"vector": [1.0, 0.0]}, kind="embedding")
    emb = OpenAIEmbedder("text-embedding-3-small", CLOSED, api_key="k", cache=cache, max_attempts=1)
    assert emb.embed(["alpha"]) == [[0.25, 0.5]] and emb.requests == 0
    assert MiniLMEmbedder(cache=cache).embed(["The cat sat."]) == [[1.0, 0.0]]  # no model loaded


def test_toxicity_scorers_replay_old_keys(cache):
    cache.put(OLD_KEYS["perspective"], {"score": 0.42}, kind="toxicity")
    cache.put(OLD_KEYS["offline_toxicity"], {"score": 0.77}, kind="toxicity")
    p = PerspectiveToxicity("k", CLOSED, cache=cache, qps=0, max_attempts=1)
    assert p.score(["you idiot"]) == [0.42] and p.requests == 0
    # the offline scorer is a new model since (version 2, static word pieces): its identity, and so
    # its key, differ, and version 1's cached score must not be replayed for it
    tox = OfflineToxicity(cache=cache)
    assert tox.name == "static-minilm-tfidf-logreg-tox"
    first = tox.score(["you idiot"])
    assert first != [0.77] and first[0] > 0.5
    assert cache.get(OLD_KEYS["offline_toxicity"]) == {"score": 0.77}  # left alone
