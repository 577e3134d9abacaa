"""The medical_density step: the signal on every document and an optional floor."""

import pytest
from conftest import read_jsonl
from datatrove.data import Document

from jmedcorpus.constants import QUALITY_MEDICAL_DENSITY_LOW
from jmedcorpus.filters.medical import MedicalDensityFilter

# Everyday Japanese, written for these tests.
EVERYDAY = (
    "今日は朝から雨が降っていたので、駅まで歩いて行った。午後は友人と映画を見に行き、夜は家族と夕食をとった。"
)


def doc(text: str, i: str = "d") -> Document:
    return Document(text=text, id=i, metadata={})


def test_density_is_stored_and_separates_reports_from_everyday_text(data_dir):
    step = MedicalDensityFilter()
    reports = [doc(r["text"], r["id"]) for r in read_jsonl(data_dir / "case_reports_ja.jsonl")]
    assert all(step.filter(d) is True for d in reports)
    densities = [d.metadata["medical_density"] for d in reports]
    everyday = doc(EVERYDAY)
    assert step.filter(everyday) is True  # the default floor 0.0 keeps everything
    assert min(densities) > 0.1 > everyday.metadata["medical_density"]


def test_floor_drops_with_a_reason():
    step = MedicalDensityFilter(min_density=0.1)
    d = doc(EVERYDAY)
    assert step.filter(d) == (False, QUALITY_MEDICAL_DENSITY_LOW)
    assert d.metadata["medical_density"] < 0.1
    assert step.filter(doc("胆管炎の再増悪を認めたためUDCAを追加し、PSLを漸減した。")) is True


def test_bad_floor_is_a_value_error():
    with pytest.raises(ValueError, match="min_density"):
        MedicalDensityFilter(min_density=1.5)
