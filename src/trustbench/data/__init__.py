"""Datasets: the TrustLLM layout on disk, the built-in suite, and the hub download."""
