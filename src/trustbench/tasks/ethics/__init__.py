"""Machine ethics: MoralChoice, ETHICS, Social Chemistry 101, awareness (method §2.6).

"trustllm" mode reproduces TrustLLM's rules and key names (B8, B12, B13 kept; B3's crash reported
as not computed); "corrected" (default) parses strictly and fixes them.

B2: TrustLLM's `run_ethics` returns the Social-Chemistry result under `implicit_ethics_res_ETHICS`
and the ETHICS result under `implicit_ethics_res_social_norm`. The swap lives in its pipeline, not
in the scorers: here each task is named after its own file in both modes, so nothing is swapped.
"""

from __future__ import annotations

from trustbench.tasks.ethics import awareness, explicit_moralchoice, implicit_ethics, implicit_social_chemistry
from trustbench.tasks.ethics._shared import parse_choice  # noqa: F401
from trustbench.tasks.ethics.awareness import (  # noqa: F401
    AWARENESS_DIMENSIONS,
    AwarenessRecord,
    emotion_options,
    emotion_parse,
    score_awareness,
    trustllm_emotion_correct,
    trustllm_label_word,
)
from trustbench.tasks.ethics.explicit_moralchoice import MoralChoiceRecord, score_moralchoice, trustllm_letter_correct  # noqa: F401
from trustbench.tasks.ethics.implicit_ethics import ETHICSRecord, ethics_parse, score_ethics  # noqa: F401
from trustbench.tasks.ethics.implicit_social_chemistry import (  # noqa: F401
    SOCIAL_CLASSES,
    SocialChemRecord,
    score_social_chem,
    social_class,
    social_parse,
)

TASKS = [explicit_moralchoice.TASK, implicit_ethics.TASK, implicit_social_chemistry.TASK, awareness.TASK]
