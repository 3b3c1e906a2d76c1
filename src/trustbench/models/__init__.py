"""Models under test and judge models, named by a spec string (see `spec.parse_model_spec`)."""

from trustbench.models.base import Completion, GenParams, Model, ModelError

__all__ = ["Completion", "GenParams", "Model", "ModelError"]
