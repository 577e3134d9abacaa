"""Shared fixtures. Test data lives in tests/data (see tests/data/SOURCES.md); tests never read ../shared."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


def read_jsonl(path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope="session")
def contamination():
    """The IgakuQA sample as a benchmark-contamination index (tests/synth)."""
    from jmedcorpus.synth.contamination import ContaminationIndex

    return ContaminationIndex.from_jsonl(DATA / "igakuqa_ja.jsonl")


@pytest.fixture(scope="session")
def ray_local():
    """One embedded Ray for the whole test session (starting Ray costs seconds)."""
    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if not ray.is_initialized():
        ray.init(
            address="local", num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False
        )
    yield
    ray.shutdown()
