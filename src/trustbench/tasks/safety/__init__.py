"""Safety: jailbreak (+ toxicity of complied answers), misuse, exaggerated safety (method §2.2).
"""

from __future__ import annotations

from trustbench.tasks.safety import exaggerated_safety, jailbreak, misuse
from trustbench.tasks.safety.exaggerated_safety import score_exaggerated  # noqa: F401
from trustbench.tasks.safety.jailbreak import JailbreakRecord, score_jailbreak  # noqa: F401
from trustbench.tasks.safety.misuse import score_misuse  # noqa: F401

TASKS = [jailbreak.TASK, misuse.TASK, exaggerated_safety.TASK]
