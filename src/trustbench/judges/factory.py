"""Build the judges of a run from its options, falling back only where the user did not choose."""

from __future__ import annotations

from typing import Any

from trustbench.engine.cache import Cache
from trustbench.engine.judging import JudgeSet
from trustbench.errors import SpecError


def make_judges(cfg: Any, cache: Cache) -> JudgeSet:
    """Refusal detector, LLM judge (optional), embedder and toxicity scorer named by `cfg`."""
    try:
        from trustbench.judges.refusal import make_refusal_detector
    except ImportError:  # pragma: no cover - during development only
        from trustbench.judges.keywords import KeywordRefusalDetector

        refusal = KeywordRefusalDetector()
    else:
        refusal = make_refusal_detector(cfg.refusal_detector)
    llm = None
    if cfg.judge:
        from trustbench.judges.llm import make_llm_judge

        try:
            llm = make_llm_judge(cfg.judge, cache, base_url=cfg.judge_base_url)
        except SpecError as e:
            raise SpecError(f"--judge: {e}") from None
    embedder = toxicity = None
    try:
        from trustbench.judges.embeddings import make_embedder

        embedder = make_embedder(cfg.embedder, cache=cache)
    except ImportError:
        pass
    try:
        from trustbench.judges.toxicity import make_toxicity

        toxicity = make_toxicity(cfg.toxicity, cache=cache)
    except ImportError:
        pass
    return JudgeSet(refusal=refusal, llm=llm, embedder=embedder, toxicity=toxicity)
