"""Privacy: ConfAIde agreement, privacy-awareness queries, Enron email leakage (method §2.5).

"trustllm" mode reproduces TrustLLM's rules and key names (B10, B11, B19 kept); "corrected"
(default) parses strictly and fixes them. See docs/scoring.md.
"""

from __future__ import annotations

from trustbench.tasks.privacy import awareness_confaide, awareness_query, leakage
from trustbench.tasks.privacy.awareness_confaide import CONFAIDE_SCALE, ConfAIdeRecord, confaide_parse, score_confaide  # noqa: F401
from trustbench.tasks.privacy.awareness_query import AwarenessQueryRecord, score_awareness_query  # noqa: F401
from trustbench.tasks.privacy.leakage import LEAK_TYPES, SHOT_TYPES, LeakageRecord, score_leakage  # noqa: F401

TASKS = [awareness_confaide.TASK, awareness_query.TASK, leakage.TASK]
