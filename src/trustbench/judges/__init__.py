"""Judges: refusal detectors, the LLM judge, embedders and toxicity scorers."""
