"""Scaling past one process: a Ray cluster of model replicas (extra `ray`)."""
