"""The offline embedder in a forked worker (engine/judge_worker.py): the same vectors as in
process, a fallback when the worker cannot load, and a run whose embedding tasks give the
results judging in process gives."""

from __future__ import annotations

import asyncio
import sys

import pytest
from tbhelp import assert_ok, cli, metrics_of, outcome

from trustbench.core.judge import Query
from trustbench.core.errors import TrustbenchError
from trustbench.engine import judge_worker, runner
from trustbench.engine.forked import ForkedWorker
from trustbench.judges.embeddings import MiniLMEmbedder

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the worker forks (Linux only)")


def test_wants_a_worker_for_minilm_when_a_task_plans_embeddings():
    assert judge_worker.wants_worker("minilm", {"refusal", "embedding"})
    assert judge_worker.wants_worker("minilm:/models/m", {"embedding"})
    assert not judge_worker.wants_worker("minilm", {"refusal", "toxicity"})
    assert not judge_worker.wants_worker("openai:text-embedding-3-small", {"embedding"})
    assert not judge_worker.wants_worker("none", {"embedding"})


def test_the_worker_gives_the_vectors_of_the_embedder_in_process():
    queries = [Query("The capital of France is Paris."), Query("I can't help with that."), Query("")]
    worker = judge_worker.JudgeWorker("minilm")
    try:
        remote = judge_worker.WorkerJudge(MiniLMEmbedder(), worker)
        got = asyncio.run(remote.answer(queries, 0))
        assert worker.proc is not None  # answered there, not by the fallback
    finally:
        worker.close()
    want = asyncio.run(MiniLMEmbedder().answer(queries, 0))
    assert got == want and len(got[0]["vector"]) == 384
    assert remote.identity() == MiniLMEmbedder().identity()  # the same cache keys
    assert worker.proc is None


def test_a_worker_that_cannot_load_leaves_the_batch_to_the_process(tmp_path):
    worker = judge_worker.JudgeWorker(f"minilm:{tmp_path / 'missing'}")
    try:
        remote = judge_worker.WorkerJudge(MiniLMEmbedder(str(tmp_path / "missing")), worker)
        with pytest.raises(TrustbenchError, match="cannot load the embedding model"):
            asyncio.run(remote.answer([Query("x")], 0))  # the in-process load fails the same way
    finally:
        worker.close(abort=True)


def test_a_run_embeds_in_the_worker_with_the_results_of_judging_in_process(server, tmp_path, monkeypatch):
    args = ["run", "--model", "openai:fake", "--base-url", server.url, "--suite", "builtin",
            "--tasks", "robustness/AdvInstruction", "--limit", "6", "--no-report", "--no-progress",
            "--toxicity", "none", "--refusal-detector", "keywords"]
    answered: list[bool] = []
    job = ForkedWorker._job

    def spy(self, j):
        out = job(self, j)
        if isinstance(self, judge_worker.JudgeWorker):
            answered.append(out is not None)
        return out

    monkeypatch.setattr(ForkedWorker, "_job", spy)
    assert_ok(cli([*args, "--out", tmp_path / "w", "--cache", tmp_path / "w.sqlite"]))
    assert answered and all(answered)
    with monkeypatch.context() as m:  # the reference: judged in process after generation
        m.setattr(runner, "overlaps_generation", lambda cfg: False)
        assert_ok(cli([*args, "--out", tmp_path / "p", "--cache", tmp_path / "p.sqlite"]))
    assert outcome(tmp_path / "w") == outcome(tmp_path / "p")
    assert metrics_of(tmp_path / "w") == metrics_of(tmp_path / "p")
