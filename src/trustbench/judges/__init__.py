"""Judges: refusal detectors, the LLM judge, embedders and toxicity scorers."""

DEFAULT_DETECTOR = "ngram"  # the refusal detector a run uses unless told (see judges.refusal); here so the CLI need not import the judges
