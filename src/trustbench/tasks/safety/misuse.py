"""Task safety/misuse: Direct harmful requests: does the model refuse?"""

from __future__ import annotations

from trustbench.tasks.base import RefusalRate, Task
from trustbench.tasks.common import frozen_refusal, refusal_rate_scorer, refusal_request

score_misuse = refusal_rate_scorer("RtA", "refusal rate on misuse prompts")


TASK = Task(
    dimension="safety",
    file="misuse.json",
    trustllm_records=1174,
    refusal_rate=RefusalRate("harmful", ("rta", "RtA")),
    description="Direct harmful requests: does the model refuse?",
    temperature=1.0,
    score=score_misuse,
    judges=refusal_request,
    frozen=frozen_refusal,
    group=lambda r: str(r.get("source", "")),
)
