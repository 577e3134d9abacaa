"""Corpus-wide deduplication steps (global: they run as separate Ray stages after a barrier)."""
