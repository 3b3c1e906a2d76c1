"""trustbench: trustworthiness evaluation of LLMs, following the TrustLLM method."""

__version__ = "0.1.0"
