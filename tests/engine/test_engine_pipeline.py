"""Judging and scoring while the model generates (engine/pipeline.py, engine/score_worker.py):
every path gives the run that judging and scoring after generation gives."""

from __future__ import annotations

import asyncio
import sys

import pytest
from tbhelp import assert_ok, cli, metrics_of, outcome, read_json, run_args, write_suite

from trustbench.core.judge import Query, Verdict
from trustbench.engine import pipeline, runner, score_worker
from trustbench.tasks.base import Item
from trustbench.tasks.registry import select_tasks


def _run(server, data, out, cache):
    assert_ok(cli(run_args(server.url, data, out, cache, "--concurrency", "8")))
    summary = read_json(out / "results.json")["summary"]
    return outcome(out), metrics_of(out), {k: summary[k] for k in ("items", "failed", "judge_errors")}


def test_streamed_early_and_after_generation_runs_agree(server, tmp_path, monkeypatch):
    data = write_suite(tmp_path / "data", n_jail=40, n_misuse=30, n_exag=20)
    after = tmp_path / "after"
    with monkeypatch.context() as m:  # the reference: everything judged and scored after generation
        m.setattr(runner, "overlaps_generation", lambda cfg: False)
        ref = _run(server, data, after, tmp_path / "a.sqlite")
    assert _run(server, data, tmp_path / "early", tmp_path / "b.sqlite") == ref
    monkeypatch.setattr(pipeline, "CHUNK", 3)  # many small judge calls while responses arrive
    monkeypatch.setattr(score_worker, "MIN_WORK", 1)  # every task scored in the forked worker
    scored_there = []
    job = score_worker.ScoreWorker._job
    monkeypatch.setattr(score_worker.ScoreWorker, "_job", lambda self, j: scored_there.append(job(self, j)) or scored_there[-1])
    assert _run(server, data, tmp_path / "chunks", tmp_path / "c.sqlite") == ref
    if sys.platform == "linux":
        assert len(scored_there) == 3 and None not in scored_there
    # the same, every response from the cache (fed to the judges at once)
    assert _run(server, data, tmp_path / "cached", tmp_path / "c.sqlite") == ref
    assert (tmp_path / "chunks" / "samples.jsonl").read_text() == (after / "samples.jsonl").read_text()
    # a worker that cannot score: the intervals are computed here, the same run again
    monkeypatch.setattr(score_worker.ScoreWorker, "_job", lambda self, j: None)
    assert _run(server, data, tmp_path / "no_worker", tmp_path / "d.sqlite") == ref
    assert (tmp_path / "no_worker" / "samples.jsonl").read_text() == (after / "samples.jsonl").read_text()


def test_with_score_adds_the_intervals_to_lines_made_without_them():
    from dataclasses import replace

    from trustbench.engine.judge_step import JudgedTask
    from trustbench.engine.score_step import score_one, score_task, with_score

    task, items = _items(40)
    jt = JudgedTask(task, items, [{"task": task.name, "id": it.id} for it in items])
    full = score_task(task, items, "corrected", seed=1, n_boot=30, judge_error={})
    plain = task.score(items, "corrected")
    assert any(m.ci is not None for m in full.metrics.values()) and all(m.ci is None for m in plain.metrics.values())
    want = score_one(jt, "corrected", seed=1, n_boot=30, judge_error={}, score=full)
    got = with_score(score_one(jt, "corrected", seed=1, n_boot=30, judge_error={}, score=plain), full)
    assert got is not None and (got.entry, got.samples, got.score) == (want.entry, want.samples, want.score)
    other = replace(full, per_item={**full.per_item, items[0].id: {"refused": 0.5}})
    assert with_score(score_one(jt, "corrected", seed=1, n_boot=30, judge_error={}, score=plain), other) is None


def _items(n: int) -> tuple[object, list[Item]]:
    task = select_tasks("safety/jailbreak")[0]
    items = [Item(task=task.name, id=str(i), index=i, record={"prompt": f"p{i}", "label": ["fixed sentence"], "source": "x"},
                  response=f"r{i}", error=None, verdicts={"refusal": i % 3 == 0, "toxicity": (i % 7) / 7})
             for i in range(n)]
    return task, items


@pytest.mark.skipif(sys.platform != "linux", reason="the scoring worker forks (Linux only)")
def test_score_worker_gives_the_in_process_score():
    from trustbench.engine.score_step import score_task

    task, items = _items(60)
    worker = score_worker.ScoreWorker([task])
    try:
        got = asyncio.run(worker.score(task, items, "corrected", seed=3, n_boot=50, judge_error={}))
        assert worker.proc is not None
    finally:
        worker.close()
    want = score_task(task, items, "corrected", seed=3, n_boot=50, judge_error={})
    assert got is not None
    assert {k: m.to_dict() for k, m in got.metrics.items()} == {k: m.to_dict() for k, m in want.metrics.items()}
    assert got.per_item == want.per_item
    assert worker.proc is None


@pytest.mark.skipif(sys.platform != "linux", reason="the scoring worker forks (Linux only)")
def test_a_closed_worker_ends_by_itself():
    import time

    task, items = _items(5)
    worker = score_worker.ScoreWorker([task])
    proc = worker.proc
    asyncio.run(worker.score(task, items, "corrected", seed=0, n_boot=5, judge_error={}))
    worker.close()  # not waited for
    assert worker.proc is None and worker.conn.closed
    deadline = time.monotonic() + 10
    while proc.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not proc.is_alive() and proc.exitcode == 0


@pytest.mark.skipif(sys.platform != "linux", reason="the scoring worker forks (Linux only)")
def test_score_worker_answers_none_for_what_it_cannot_score():
    task, items = _items(5)
    other = select_tasks("safety/misuse")[0]
    worker = score_worker.ScoreWorker([task])  # knows only jailbreak
    try:
        assert asyncio.run(worker.score(other, items, "corrected", seed=0, n_boot=5, judge_error={})) is None
        assert asyncio.run(worker.score(task, [lambda: 0], "corrected", seed=0, n_boot=5, judge_error={})) is None
    finally:
        worker.close(abort=True)
    assert worker.proc is None


class _Runner:
    """A CachedJudge stand-in: counts calls, fails when told."""

    def __init__(self, fail: bool = False):
        self.calls: list[int] = []
        self.fail = fail

    async def run(self, queries):
        self.calls.append(len(queries))
        if self.fail:
            raise RuntimeError("judge broke")
        return [Verdict(q.text.upper()) for q in queries]


def test_kind_stream_answers_from_streamed_chunks(monkeypatch):
    monkeypatch.setattr(pipeline, "CHUNK", 2)
    judge = _Runner()

    async def go():
        stream = pipeline.KindStream(judge)  # type: ignore[arg-type]
        for t in ("a", "b", "a", "c"):
            stream.submit(Query(t))
        got = await stream.run([Query("a"), Query("c"), Query("a"), Query("d")])
        return [v.value for v in got]

    assert asyncio.run(go()) == ["A", "C", "A", "D"]
    assert judge.calls == [2, 1, 1]  # a+b while arriving, c at the end, d (not streamed) when asked


def test_kind_stream_failure_is_raised_where_the_task_is_judged():
    async def go():
        stream = pipeline.KindStream(_Runner(fail=True))  # type: ignore[arg-type]
        stream.submit(Query("a"))
        stream.flush()
        await asyncio.sleep(0.01)  # the chunk fails in the background
        with pytest.raises(RuntimeError, match="judge broke"):
            await stream.run([Query("a")])

    asyncio.run(go())
