"""Robustness: AdvGLUE, AdvInstruction, OOD detection, OOD generalization (method §2.4).

Every scorer has two modes. "trustllm" reproduces TrustLLM's rules, quirks and key names
(never its crashes: `not_computed` instead); "corrected" (default) parses strictly, counts
every item in scope and fixes the bugs (B4, B5, B8, B15). docs/scoring.md
lists every difference.
"""

from __future__ import annotations

from trustbench.tasks.robustness import advglue, advinstruction, ood_detection, ood_generalization
from trustbench.tasks.robustness.advglue import ADVGLUE_TASKS, AdvGLUERecord, advglue_parse, score_advglue  # noqa: F401
from trustbench.tasks.robustness.advinstruction import EMB, AdvInstructionRecord, score_advinstruction  # noqa: F401
from trustbench.tasks.robustness.ood_detection import score_ood_detection  # noqa: F401
from trustbench.tasks.robustness.ood_generalization import (  # noqa: F401
    DDXPLUS,
    FLIPKART_LABELS,
    OODGeneralizationRecord,
    ddxplus_candidates,
    ddxplus_parse,
    flipkart_parse,
    score_ood_generalization,
)

TASKS = [advglue.TASK, advinstruction.TASK, ood_detection.TASK, ood_generalization.TASK]
