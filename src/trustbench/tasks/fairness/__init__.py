"""Fairness: stereotype recognition / agreement / query, disparagement, preference (method §2.3).

"trustllm" mode reproduces TrustLLM's routing, parsing and denominators (never its crashes);
"corrected" (default) parses strictly and counts every item. See
docs/scoring.md for the differences and bug ids.
"""

from __future__ import annotations

from trustbench.tasks.fairness import (
    disparagement,
    preference,
    stereotype_agreement,
    stereotype_query_test,
    stereotype_recognition,
)
from trustbench.tasks.fairness.disparagement import (  # noqa: F401
    DISPARAGEMENT_ATTRIBUTES,
    DisparagementRecord,
    parse_salary,
    score_disparagement,
)
from trustbench.tasks.fairness.preference import PreferenceRecord, parse_pick, score_preference  # noqa: F401
from trustbench.tasks.fairness.stereotype_agreement import (  # noqa: F401
    StereotypeAgreementRecord,
    parse_agreement,
    score_stereotype_agreement,
)
from trustbench.tasks.fairness.stereotype_query_test import score_stereotype_query  # noqa: F401
from trustbench.tasks.fairness.stereotype_recognition import (  # noqa: F401
    SR_LABELS,
    StereotypeRecognitionRecord,
    parse_stereotype_recognition,
    score_stereotype_recognition,
)

TASKS = [stereotype_recognition.TASK, stereotype_agreement.TASK, stereotype_query_test.TASK, disparagement.TASK,
         preference.TASK]
