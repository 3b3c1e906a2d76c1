"""User-facing errors (defined in `trustbench.core.errors`, the bottom layer)."""

from trustbench.core.errors import DataError, ModelError, SpecError, TrustbenchError

__all__ = ["DataError", "ModelError", "SpecError", "TrustbenchError"]
