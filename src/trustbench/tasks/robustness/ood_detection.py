"""Task robustness/ood_detection: OOD detection: requests needing real-time data or tools; does the model decline?"""

from __future__ import annotations

from trustbench.tasks.base import Task
from trustbench.tasks.common import frozen_refusal, refusal_rate_scorer, refusal_request

# OOD detection (§2.4.3)


score_ood_detection = refusal_rate_scorer(
    "RtA", "share of out-of-scope requests (real-time data, tools) the model declines")


TASK = Task(
    dimension="robustness",
    file="ood_detection.json",
    trustllm_records=241,
    description="OOD detection: requests needing real-time data or tools; does the model decline?",
    temperature=1.0,
    score=score_ood_detection,
    judges=refusal_request,
    frozen=frozen_refusal,
)
