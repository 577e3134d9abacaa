"""jmedcorpus: curation pipeline for Japanese medical LLM training data."""

__version__ = "0.1.0"
