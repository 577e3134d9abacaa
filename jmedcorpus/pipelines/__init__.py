"""Assembling recipe steps into runs: the per-unit task, the global stages, the build driver."""
