"""The medical_domain step and its model: the score on every document, an optional floor, the
shipped model on real fixtures, deterministic training, the model file."""

import math

import numpy as np
import pytest
from conftest import read_jsonl
from datatrove.data import Document

from jmedcorpus.constants import QUALITY_MEDICAL_SCORE_LOW
from jmedcorpus.domain.features import feature_indices
from jmedcorpus.domain.model import load_model, read_model, save_model, to_bytes
from jmedcorpus.domain.train import fit, holdout_mask
from jmedcorpus.filters.domain import MedicalDomainFilter
from jmedcorpus.text import mecab
from jmedcorpus.text.mecab import get_tokenizer
from jmedcorpus.text.normalize import normalize_text

# Everyday Japanese, written for these tests.
SHOPPING = (
    "週末は子供と公園に行って、サッカーをして遊びました。帰りにスーパーで買い物をしてから家に帰りました。"
)
PHONE = "新しいスマートフォンを買ったので、古い端末からデータを移行した。設定に一時間ほどかかった。"


def doc(text: str, i: str = "d") -> Document:
    return Document(text=normalize_text(text), id=i, metadata={})  # the recipe normalizes first


@pytest.fixture(scope="module")
def medical(data_dir) -> list[str]:
    return [
        r["text"]
        for name in ("case_reports_ja.jsonl", "igakuqa_ja.jsonl")
        for r in read_jsonl(data_dir / name)
    ]


@pytest.fixture(scope="module")
def general(data_dir) -> list[str]:
    return [r["text"] for r in read_jsonl(data_dir / "wikipedia_ja.jsonl")]


def rows_of(texts: list[str], bits: int) -> list[np.ndarray]:
    tokenizer = get_tokenizer()
    return [feature_indices(t, tokenizer.word_tokenize(t), bits) for t in map(normalize_text, texts)]


def test_shipped_model_scores_medical_fixtures_above_its_floor_and_general_below(medical, general):
    step = MedicalDomainFilter()
    floor = load_model().floor
    assert floor == 0.6  # the model card's recommended floor
    scored = {}
    for kind, texts in (("medical", medical), ("general", [*general, SHOPPING, PHONE])):
        docs = [doc(t, f"{kind}{i}") for i, t in enumerate(texts)]
        assert all(step.filter(d) is True for d in docs)  # no floor: every document kept
        scored[kind] = [d.metadata["medical_score"] for d in docs]
    assert all(0.0 <= s <= 1.0 for s in scored["medical"] + scored["general"])
    assert min(scored["medical"]) >= floor > max(scored["general"])


def test_floor_drops_with_a_reason_and_keeps_the_score(medical):
    step = MedicalDomainFilter(min_score=0.6)
    d = doc(SHOPPING)
    assert step.filter(d) == (False, QUALITY_MEDICAL_SCORE_LOW)
    assert d.metadata["medical_score"] < 0.6
    kept = doc(medical[0])
    assert step.filter(kept) is True and kept.metadata["medical_score"] >= 0.6


@pytest.mark.parametrize("min_score", [None, 0.0])
def test_no_floor_keeps_everything(min_score):
    assert MedicalDomainFilter(min_score=min_score).filter(doc(PHONE)) is True


@pytest.mark.parametrize("text", ["", "。。、!?", "12345 67.8", "ひらがなだけのぶんしょう"])
def test_a_document_without_content_words_scores_zero(text):
    d = Document(text=text, id="x", metadata={})
    assert MedicalDomainFilter(min_score=0.5).filter(d) == (False, QUALITY_MEDICAL_SCORE_LOW)
    assert d.metadata["medical_score"] == 0.0


def test_uses_the_mecab_steps_tokens_without_a_second_parse(monkeypatch, medical):
    d = doc(medical[1])
    get_tokenizer().word_tokenize(d.text)  # what the mecab step does before

    def no_second_parse():
        raise AssertionError("MeCab ran again")

    monkeypatch.setattr(mecab, "get_tagger", no_second_parse)
    assert MedicalDomainFilter().filter(d) is True and d.metadata["medical_score"] > 0.5


def test_score_is_the_sigmoid_of_bias_plus_mean_weight(medical):
    model = load_model()
    text = normalize_text(medical[2])
    indices = feature_indices(text, get_tokenizer().word_tokenize(text), model.bits)
    z = model.bias + float(np.mean(model.weights[indices].astype(np.float64)))
    assert model.score(text, get_tokenizer().word_tokenize(text)) == pytest.approx(1 / (1 + math.exp(-z)))


@pytest.mark.parametrize(
    "kwargs, message", [({"min_score": 1.5}, "min_score"), ({"min_score": -0.1}, "min_score")]
)
def test_bad_floor_is_a_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MedicalDomainFilter(**kwargs)


def test_bad_model_files_are_one_line_value_errors(tmp_path):
    missing = tmp_path / "nope.bin"
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a model")
    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes(to_bytes(load_model())[:300])
    for path, message in (
        (missing, "cannot read it"),
        (junk, "not a jmedcorpus domain model"),
        (truncated, "damaged"),
    ):
        with pytest.raises(ValueError) as e:
            MedicalDomainFilter(model=str(path))
        assert message in str(e.value) and str(path) in str(e.value) and "\n" not in str(e.value)


def test_training_is_deterministic_and_the_file_round_trips(medical, general, tmp_path):
    texts = medical + general
    labels = [1] * len(medical) + [0] * len(general)
    rows = rows_of(texts, 12)
    first = fit(rows, labels, bits=12, iterations=50, training={"note": "test"})
    second = fit(rows, labels, bits=12, iterations=50, training={"note": "test"})
    assert to_bytes(first) == to_bytes(second)  # identical weights, bias and header, byte for byte
    path = tmp_path / "tiny.bin"
    save_model(first, str(path))
    back = read_model(str(path))
    assert np.array_equal(back.weights, first.weights) and back.bias == first.bias and back.bits == 12
    assert back.training == {"note": "test"} and not list(tmp_path.glob("*.tmp-*"))
    step = MedicalDomainFilter(model=str(path))
    d = doc(medical[0])
    assert step.filter(d) is True and 0.0 <= d.metadata["medical_score"] <= 1.0


def test_holdout_keeps_groups_together_and_is_seeded():
    groups = [f"g{i // 3}" for i in range(60)]  # 20 groups of 3 records
    labels = [int(i < 30) for i in range(60)]
    held = holdout_mask(groups, labels, 0.2, seed=7)
    assert np.array_equal(held, holdout_mask(groups, labels, 0.2, seed=7))
    for g in set(groups):
        assert len({h for h, gg in zip(held, groups) if gg == g}) == 1  # a group is on one side
    assert held[:30].sum() == held[30:].sum() == 6  # 20 % of each class's 10 groups, 3 records each
    assert not holdout_mask(groups, labels, 0.0, seed=7).any()


def test_default_recipe_records_the_score_right_after_medical_density_without_a_floor():
    from jmedcorpus.recipe import load_recipe

    steps = load_recipe().to_dict()["steps"]
    uses = [s["use"] for s in steps]
    at = uses.index("medical_domain")
    assert uses[at - 1] == "medical_density" and uses.count("medical_domain") == 1
    assert steps[at]["min_score"] is None and steps[at]["model"] is None


def test_the_report_knows_the_signal():
    from jmedcorpus.report.stats import scale_of
    from jmedcorpus.report.thresholds import measured_by, thresholds_from_recipe

    assert scale_of("medical_score") == "linear"  # 50 bins on [0, 1]
    assert measured_by("medical_domain") == ("medical_score",)
    assert "medical_score" not in thresholds_from_recipe(
        {"steps": [{"use": "medical_domain", "min_score": None}]}
    )
    entry = thresholds_from_recipe({"steps": [{"use": "medical_domain", "min_score": 0.6}]})["medical_score"]
    assert entry["min"] == 0.6 and entry["params"] == {"min": "min_score"}
