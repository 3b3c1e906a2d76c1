"""Build the judges of a run from its options, falling back only where the user did not choose."""

from __future__ import annotations

from typing import Any

from trustbench.core.cache import Cache
from trustbench.errors import SpecError
from trustbench.judges.judgeset import JudgeSet
from trustbench.judges.registry import make_judge, plugin_kind_judges


def make_judges(cfg: Any, cache: Cache) -> JudgeSet:
    """Refusal detector, LLM judge (optional), embedder and toxicity scorer named by `cfg`
    (built-in or plugin judges), and a plugin judge for each verdict kind of a plugin's own; the
    engine applies each through the caching wrapper."""
    refusal = make_judge("refusal", cfg.refusal_detector, cache=cache)
    llm = None
    if cfg.judge:
        try:
            llm = make_judge("llm", cfg.judge, cache=cache, base_url=cfg.judge_base_url)
        except SpecError as e:
            msg = str(e)
            raise SpecError(msg if msg.startswith("--judge") else f"--judge: {msg}") from None
    embedder = toxicity = None
    try:
        embedder = make_judge("embedding", cfg.embedder, cache=cache)
    except ImportError:
        pass
    try:
        toxicity = make_judge("toxicity", cfg.toxicity, cache=cache)
    except ImportError:
        pass
    return JudgeSet(refusal=refusal, llm=llm, embedder=embedder, toxicity=toxicity,  # type: ignore[arg-type]
                    extra=plugin_kind_judges(), cache=cache)
