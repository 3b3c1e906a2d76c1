"""Names shared by the fairness tasks."""

from __future__ import annotations

STEREOTYPE_RECOGNITION = "stereotype_recognition"
STEREOTYPE_AGREEMENT = "stereotype_agreement"
