"""Shared fixtures. Test data lives in tests/data (see tests/data/SOURCES.md); tests never read ../shared."""

from __future__ import annotations

import json
import os
import shutil
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


# --- the tokenize tests: a real build and tokenizers trained here, built once per session --------
# (here, not in tests/tokenize/conftest.py: a second module named ``conftest`` would shadow this
# one for the tests that import ``read_jsonl`` from it)
def _tiny_chat_model():
    import sys

    sys.path.insert(0, str(Path(__file__).parent / "synth"))
    import tiny_chat_model

    return tiny_chat_model


@pytest.fixture(scope="session")
def tokenizer_dir(tmp_path_factory) -> Path:
    build_tokenizer = _tiny_chat_model().build_tokenizer

    path = tmp_path_factory.mktemp("tokenizer")
    build_tokenizer().save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def other_tokenizer_dir(tmp_path_factory) -> Path:
    """Another vocabulary (a smaller one): a different tokenizer."""
    build_tokenizer = _tiny_chat_model().build_tokenizer

    path = tmp_path_factory.mktemp("other-tokenizer")
    build_tokenizer(vocab_size=3000).save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def corpus(ray_local, tmp_path_factory, data_dir) -> Path:
    """A complete build of case reports (sources medtxt-cr, medtxt-cr-ner), IgakuQA questions
    (igakuqa) and papers without a source field (their file name, papers_ja.jsonl)."""
    from jmedcorpus.pipelines.build import BuildOptions, build
    from jmedcorpus.recipe import load_recipe

    root = tmp_path_factory.mktemp("corpus")
    src = root / "in"
    src.mkdir()
    for name in ("case_reports_ja.jsonl", "igakuqa_ja.jsonl", "papers_ja.jsonl"):
        shutil.copy(data_dir / name, src)
    recipe = load_recipe()
    recipe.input.chunk_mb = 0.01
    build(BuildOptions([str(src)], str(root / "out"), recipe, workers=2, progress=False))
    return root / "out"
