"""Every quality filter at its defaults keeps real clinical Japanese; shared step conventions."""

import json
import pickle
from pathlib import Path

import pytest
from datatrove.data import Document

from jmedcorpus.filters import quality
from jmedcorpus.registry import _STEPS

DATA = Path(__file__).resolve().parents[2] / "data"
NORMALIZE = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
FILTERS = quality.quality_filters()  # every filter module of the package, found by importing it


def _records(name):
    with (DATA / name).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


KEPT = _records("quality_kept_real.jsonl") + _records("quality_kept_written.jsonl")


@pytest.mark.parametrize("cls", FILTERS, ids=lambda c: c.registered_name)
@pytest.mark.parametrize("record", KEPT, ids=lambda r: r["id"])
def test_every_filter_keeps_clinical_japanese(cls, record):
    doc = Document(text=record["text"].translate(NORMALIZE), id=record["id"])
    assert cls().filter(doc) is True
    assert set(cls.signal_fields) <= set(doc.metadata)


def test_every_quality_module_is_found_and_registered():
    modules = {p.stem for p in Path(quality.__file__).parent.glob("*.py")} - {"__init__"}
    assert {cls.__module__.rsplit(".", 1)[1] for cls in FILTERS} == modules
    assert len(FILTERS) >= 11
    for cls in FILTERS:
        assert _STEPS[cls.registered_name] is cls
        assert getattr(quality, cls.__name__) is cls and cls.__name__ in quality.__all__


@pytest.mark.parametrize("cls", FILTERS, ids=lambda c: c.registered_name)
def test_pickles_and_still_filters(cls):
    flt = pickle.loads(pickle.dumps(cls()))
    doc = Document(text=KEPT[0]["text"].translate(NORMALIZE), id="x")
    assert flt.filter(doc) is True


@pytest.mark.parametrize("cls", FILTERS, ids=lambda c: c.registered_name)
def test_signals_written_for_empty_doc(cls):
    doc = Document(text="", id="empty")
    cls().filter(doc)
    for key, arrow_type in cls.signal_fields.items():
        expected = float if arrow_type == "float64" else int
        assert type(doc.metadata[key]) is expected, key
