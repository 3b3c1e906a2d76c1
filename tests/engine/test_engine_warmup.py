"""Judge loading that overlaps generation: which judges are warmed for which model."""

from __future__ import annotations

from types import SimpleNamespace

from trustbench.engine.warmup import planned_judge_kinds, start_warmup
from trustbench.tasks.registry import select_tasks


class Judge:
    def __init__(self) -> None:
        self.checked = 0

    def check(self) -> None:
        self.checked += 1


def datasets(name: str, records: list[dict]):
    task = select_tasks(name)[0]
    return [SimpleNamespace(task=task, records=records)]


def test_probes_the_judge_kinds_tasks_plan():
    jail = datasets("safety/jailbreak", [{"prompt": "p", "label": "x", "source": "s"}])
    assert {"refusal", "toxicity"} <= planned_judge_kinds(jail)
    assert planned_judge_kinds(datasets("safety/jailbreak", [])) == set()


def test_warms_toxicity_and_skips_torch_beside_a_local_model(monkeypatch):
    import trustbench.judges.embeddings as emb

    loads = []
    monkeypatch.setattr(emb, "load_sentence_transformer", lambda *a, **k: loads.append(a))
    jail = datasets("safety/jailbreak", [{"prompt": "p", "label": "x", "source": "s"}])
    for spec, expect_tox in (("local:smollm2", 1), ("openai:x", 1)):
        tox = Judge()
        judges = SimpleNamespace(toxicity=tox, embedder=emb.MiniLMEmbedder())
        start_warmup(judges, planned_judge_kinds(jail), report=False, model_spec=spec).join(10)
        assert tox.checked == expect_tox
    assert loads == []  # jailbreak plans no embeddings


def test_embedder_warmed_only_when_the_model_runs_elsewhere(monkeypatch):
    import trustbench.judges.embeddings as emb
    from trustbench.data.loader import load_task_data, suite_root

    task = select_tasks("robustness/AdvInstruction")[0]
    data = [load_task_data(task, suite_root("builtin", None))]
    assert "embedding" in planned_judge_kinds(data)
    loads = []
    monkeypatch.setattr(emb, "load_sentence_transformer", lambda *a, **k: loads.append(a))
    monkeypatch.setattr(emb.MiniLMEmbedder, "check", lambda self: None)
    for spec in ("local:smollm2", "hf:some/model", "openai:gpt-4o-mini"):
        judges = SimpleNamespace(toxicity=None, embedder=emb.MiniLMEmbedder(path="/models/minilm"))
        start_warmup(judges, planned_judge_kinds(data), report=False, model_spec=spec).join(10)
    assert len(loads) == 1  # only for openai:, not beside a local llama.cpp or transformers model
    judges = SimpleNamespace(toxicity=None, embedder=emb.MiniLMEmbedder(path="/models/minilm"))
    start_warmup(judges, planned_judge_kinds(data), report=False, model_spec="openai:x", embedder=False).join(10)
    assert len(loads) == 1  # loaded by the run's embedding worker instead (engine/judge_worker.py)
