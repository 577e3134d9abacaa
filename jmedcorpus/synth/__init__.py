"""Synthetic QA generation from corpus passages: passage splitting and selection."""
