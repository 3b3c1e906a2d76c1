"""Metric values and the helpers every task's pure scoring function uses."""

from trustbench.scoring.metric import Metric, mean_metric, not_computed, proportion

__all__ = ["Metric", "mean_metric", "not_computed", "proportion"]
