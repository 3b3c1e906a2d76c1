"""Truthfulness: internal / external knowledge, hallucination, sycophancy, adversarial factuality (method §2.1).

Every scorer has two modes: "trustllm" reproduces TrustLLM's parsing, denominators, rounding and
key names (never its crashes); "corrected" (default) parses strictly, keeps every item in the
denominator and reports coverage. docs/scoring.md lists the differences.
"""

from __future__ import annotations

from trustbench.tasks.common import NEEDS_JUDGE, judge_label, parse_option  # noqa: F401 (re-exported)
from trustbench.tasks.truthfulness import external, golden_advfactuality, hallucination, internal, sycophancy
from trustbench.tasks.truthfulness._shared import NEEDS_EMBEDDER, parse_yes_no  # noqa: F401
from trustbench.tasks.truthfulness.external import EXTERNAL_SOURCES, ExternalRecord, parse_fact_check, score_external  # noqa: F401
from trustbench.tasks.truthfulness.golden_advfactuality import ADVFACT_LABELS, AdvFactRecord, score_advfact  # noqa: F401
from trustbench.tasks.truthfulness.hallucination import (  # noqa: F401
    HALLUCINATION_SOURCES,
    HallucinationRecord,
    mc_gold_letters,
    score_hallucination,
)
from trustbench.tasks.truthfulness.internal import INTERNAL_SOURCES, InternalRecord, parse_codah, score_internal  # noqa: F401
from trustbench.tasks.truthfulness.sycophancy import SycophancyRecord, pair_key, score_sycophancy  # noqa: F401

TASKS = [internal.TASK, external.TASK, hallucination.TASK, sycophancy.TASK, golden_advfactuality.TASK]
