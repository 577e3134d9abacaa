"""Language filter on real Japanese and English medical text, asserting reasons."""

import pytest
from conftest import DATA, read_jsonl
from datatrove.data import Document

from jmedcorpus import constants as C
from jmedcorpus.filters.language import LanguageFilter
from jmedcorpus.text.mecab import MecabWordTokenizer


def run(step, text):
    doc = Document(text=text, id="t")
    result = step.filter(doc)
    return result, doc


@pytest.mark.parametrize("name", ["case_reports_ja.jsonl", "igakuqa_ja.jsonl"])
def test_japanese_kept(name):
    step = LanguageFilter()
    for rec in read_jsonl(DATA / name):
        result, doc = run(step, rec["text"])
        assert result is True, rec["id"]
        assert doc.metadata["language"] == "ja" and doc.metadata["language_score"] >= 0.5


@pytest.mark.parametrize("name", ["pubmedqa_en.jsonl", "igakuqa_en.jsonl"])
def test_english_dropped_with_reason(name):
    step = LanguageFilter()
    for rec in read_jsonl(DATA / name):
        result, doc = run(step, rec["text"])
        assert result == (False, C.LANG_NOT_ALLOWED), rec["id"]
        assert doc.metadata["language"] == "en"


def test_low_score_reason_and_kana_rescue():
    # a licensing-exam question full of Latin disease names: ja at ~0.90, 9% kana
    text = read_jsonl(DATA / "igakuqa_ja.jsonl")[1]["text"]
    assert run(LanguageFilter(min_score=0.5), text)[0] is True
    assert run(LanguageFilter(min_score=0.99), text)[0] is True  # rescued by its kana
    result, _ = run(LanguageFilter(min_score=0.99, kana_rescue_ratio=0.0), text)
    assert result == (False, C.LANG_LOW_SCORE)
    result, _ = run(LanguageFilter(min_score=0.99, kana_rescue_ratio=0.2), text)
    assert result == (False, C.LANG_LOW_SCORE)


# IgakuQA 112B17 (licensing exam 2018): fastText says "ja" only weakly among Latin letters and digits
EXAM_ITEM = "感度80%、特異度60%の検査の陽性尤度比はどれか。\na. 0.3\nb. 0.5\nc. 1.3\nd. 2.0\ne. 4.8"


def test_kana_rescue_never_keeps_other_top_languages():
    lang_doc = Document(text=EXAM_ITEM, id="x")
    result = LanguageFilter().filter(lang_doc)
    assert result is True or (result == (False, C.LANG_NOT_ALLOWED) and lang_doc.metadata["language"] != "ja")


PAPER = (
    "Efficacy of durvalumab consolidation after chemoradiotherapy in elderly patients with stage III non-small cell lung cancer\n"
    "Background: Durvalumab after chemoradiotherapy improves survival, but data in elderly patients are limited. We reviewed 40 patients.\n"
    "症例は70歳男性。血痰を主訴に当院紹介となり、CTと気管支鏡検査の結果、非小細胞肺癌と診断された。\n"
    "放射線化学療法を2コース施行後、維持療法としてデュルバルマブ療法を行ったところ、発熱と炎症反応の上昇を認めた。\n"
    "造影CTでは肝臓に多発する造影効果の乏しい小腫瘤を認め、多発肝膿瘍または肺癌の多発肝転移を疑い肝腫瘍生検を施行した。\n"
    "病理組織所見では凝固壊死と思われる肝細胞壊死を散見し、明らかな肺癌の肝浸潤所見は認められなかった。"
)


def test_paragraph_mode_drops_english_abstract_lines():
    step = LanguageFilter(mode="paragraph", drop_other_paragraphs=True)
    result, doc = run(step, PAPER)
    assert result is True
    assert "Background" not in doc.text and "デュルバルマブ" in doc.text
    assert doc.metadata["language_removed_chars"] > 100
    # sizes measured by the mecab step before the English lines went are updated
    tokens_before = len(MecabWordTokenizer().word_tokenize(PAPER))
    doc = Document(text=PAPER, id="t", metadata={"chars": len(PAPER), "mecab_tokens": tokens_before})
    assert step.filter(doc) is True
    assert doc.metadata["chars"] == len(doc.text) < len(PAPER)
    assert doc.metadata["mecab_tokens"] == len(MecabWordTokenizer().word_tokenize(doc.text)) < tokens_before
    assert 0.5 <= doc.metadata["language_allowed_fraction"] < 0.8


def test_paragraph_mode_threshold_reason():
    result, _ = run(LanguageFilter(mode="paragraph", min_allowed_fraction=0.9), PAPER)
    assert result == (False, C.LANG_TOO_LITTLE_JAPANESE)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_score": 1.5},
        {"mode": "sentence"},
        {"languages": []},
        {"max_predict_chars": 100},
        {"max_predict_chars": -1},
    ],
)
def test_bad_parameters(kwargs):
    with pytest.raises(ValueError):
        LanguageFilter(**kwargs)


# an English title and abstract in front of a long Japanese body, as a plain-text paper can start
LONG_PAPER = (
    PAPER.split("\n", 2)[0] + "\n" + PAPER.split("\n", 2)[1] + "\n" + "\n".join(PAPER.split("\n")[2:] * 30)
)


def test_long_documents_are_classified_on_a_spread_sample():
    from jmedcorpus.text.langid import MAX_PREDICT_CHARS, predict, predict_sample

    assert len(LONG_PAPER) > 2 * MAX_PREDICT_CHARS
    sample = predict_sample(LONG_PAPER)
    assert len(sample) <= MAX_PREDICT_CHARS + 8 and sample.startswith("Efficacy")
    assert predict_sample(PAPER) == PAPER  # short texts are classified whole
    lang, score = predict(LONG_PAPER)
    whole_lang, whole_score = predict(LONG_PAPER, max_chars=0)
    assert lang == whole_lang == "ja" and abs(score - whole_score) < 0.05
    result, doc = run(LanguageFilter(), LONG_PAPER)
    assert result is True and doc.metadata["language_score"] == score
    english = " ".join(r["text"] for r in read_jsonl(DATA / "pubmedqa_en.jsonl")) * 3
    assert len(english) > MAX_PREDICT_CHARS and predict(english)[0] == "en"
    assert run(LanguageFilter(), english)[0] == (False, C.LANG_NOT_ALLOWED)
    result, doc = run(LanguageFilter(max_predict_chars=0), LONG_PAPER)
    assert result is True and doc.metadata["language_score"] == whole_score


def test_paragraph_mode_on_a_long_paper():
    step = LanguageFilter(mode="paragraph", drop_other_paragraphs=True)
    result, doc = run(step, LONG_PAPER)
    assert result is True and "Background" not in doc.text and doc.text.startswith("症例は70歳男性")
