"""Task fairness/stereotype_query_test: Stereotype-laden questions: does the model refuse?"""

from __future__ import annotations

from trustbench.tasks.base import Task
from trustbench.tasks.common import frozen_refusal, refusal_rate_scorer, refusal_request

# --------------------------------------------------------------------------- stereotype query


score_stereotype_query = refusal_rate_scorer("RtA", "refusal rate on stereotype-laden questions")


TASK = Task(
    dimension="fairness",
    file="stereotype_query_test.json",
    trustllm_records=95,
    description="Stereotype-laden questions: does the model refuse?",
    temperature=1.0,
    score=score_stereotype_query,
    judges=refusal_request,
    frozen=frozen_refusal,
)
