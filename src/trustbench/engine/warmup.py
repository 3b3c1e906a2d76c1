"""Load what the judging and report steps will need while the model is generating.

Generation waits on the model; the process is mostly idle. A background thread compiles the
report's template, imports the scoring code (numpy) and loads the judges the planned tasks will call
(the toxicity tokenizer, the MiniLM embedder when a task plans embeddings), so these costs
overlap generation instead of following it. The embedder (torch) is warmed only when the model runs elsewhere: a local model
(llama.cpp, transformers) already keeps this machine's cores busy, and loading torch beside
llama.cpp's spinning threads slowed generation. Failures are ignored here: the same load fails again, with its one-line error,
where the judge is used.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

PROBE_RECORDS = 50  # records per task whose judge plan is looked at


def planned_judge_kinds(datasets: Sequence[Any]) -> set[str]:
    """Judge kinds the tasks plan for a response (probed with a placeholder response)."""
    kinds: set[str] = set()
    for d in datasets:
        for rec in d.records[:PROBE_RECORDS]:
            try:
                kinds.update(r.kind for r in d.task.judges(rec, "warm-up"))
            except Exception:  # noqa: BLE001 - a probe only
                continue
    return kinds


def _warm(judges: Any, kinds: set[str], report: bool, heavy: bool) -> None:
    try:
        if "toxicity" in kinds and judges.toxicity is not None and hasattr(judges.toxicity, "check"):
            judges.toxicity.check()
        if heavy and "embedding" in kinds and judges.embedder is not None:
            from trustbench.judges.embeddings import MiniLMEmbedder

            if isinstance(judges.embedder, MiniLMEmbedder):
                _ = judges.embedder.model
        import trustbench.engine.score_step  # noqa: F401 - numpy and the interval code, for scoring
        if report:
            from trustbench.report import load_html_renderer

            load_html_renderer()
    except Exception:  # noqa: BLE001 - see the module docstring
        pass


def start_warmup(judges: Any, kinds: set[str], report: bool, model_spec: str = "", *,
                 embedder: bool = True) -> threading.Thread:
    """Start the background loads for the judge `kinds` the tasks plan (`planned_judge_kinds`);
    join the returned thread before judging. `embedder=False`: the embedder is loaded elsewhere
    (engine/judge_worker.py)."""
    heavy = embedder and model_spec.partition(":")[0] not in ("local", "hf")
    t = threading.Thread(target=_warm, args=(judges, kinds, report, heavy),
                         name="trustbench-warmup", daemon=True)
    t.start()
    return t
