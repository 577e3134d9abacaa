import pytest
from datatrove.data import Document

from jmedcorpus.constants import (
    QUALITY_HIRAGANA_RATIO_LOW,
    QUALITY_JAPANESE_RATIO_LOW,
    QUALITY_KATAKANA_RATIO_HIGH,
)
from jmedcorpus.filters.quality.script import HiraganaRatioFilter, JapaneseRatioFilter, KatakanaRatioFilter

# IgakuQA 112C52 (start): the lowest-hiragana Japanese question of 2018-2022
LABS = (
    "検査所見（来院時）：血液所見：赤血球356万、Hb 9.7g/dL、Ht 35%、白血球4,000、血小板8.6万、"
    "PT-INR 1.3（基準0.9〜1.1）。血液生化学所見：総蛋白6.4g/dL、アルブミン3.0 g/dL、総ビリルビン6.3mg/dL。"
    "腹部超音波検査を行った。"
)
# IgakuQA 116F33: katakana option list
KATAKANA_OPTIONS = (
    "高齢者の介護予防に重要なのはどれか。3つ選べ。\na. フレイル\nb. サルコペニア\nc. トキシドローム\n"
    "d. アナフィラキシー\ne. ロコモティブシンドローム"
)
GAUCHER = (
    "高アンモニア血症をきたす疾患はどれか。\na. Gaucher病\nb. von Gierke病\nc. Hurler症候群"  # IgakuQA 112A1
)
PUBMED = (
    "Programmed cell death (PCD) is the regulated death of cells within an organism."  # PubMedQA 21645374
)
NUMBERS = "2019 2020 2021\n123 456 789\n101 202 303\n404 505 606"
KANJI_TAGS = "東京 内科 糖尿病 高血圧 循環器 整形外科 皮膚科 眼科 耳鼻咽喉科 小児科 予約 駐車場"
KATAKANA_SPAM = "サプリメント ダイエット プロテイン コラーゲン ヒアルロンサン グルコサミン ランキング セール"


@pytest.mark.parametrize(
    ("flt", "text", "reason", "key"),
    [
        (HiraganaRatioFilter(), LABS, None, "hiragana_ratio"),
        (HiraganaRatioFilter(), GAUCHER, None, "hiragana_ratio"),
        (HiraganaRatioFilter(), KANJI_TAGS, QUALITY_HIRAGANA_RATIO_LOW, "hiragana_ratio"),
        (HiraganaRatioFilter(), NUMBERS, QUALITY_HIRAGANA_RATIO_LOW, "hiragana_ratio"),
        (HiraganaRatioFilter(), "", QUALITY_HIRAGANA_RATIO_LOW, "hiragana_ratio"),
        (JapaneseRatioFilter(), LABS, None, "japanese_ratio"),
        (JapaneseRatioFilter(), GAUCHER, None, "japanese_ratio"),
        (JapaneseRatioFilter(), PUBMED, QUALITY_JAPANESE_RATIO_LOW, "japanese_ratio"),
        (JapaneseRatioFilter(), NUMBERS, QUALITY_JAPANESE_RATIO_LOW, "japanese_ratio"),
        (KatakanaRatioFilter(), KATAKANA_OPTIONS, None, "katakana_ratio"),
        (KatakanaRatioFilter(), LABS, None, "katakana_ratio"),
        (KatakanaRatioFilter(), KATAKANA_SPAM, QUALITY_KATAKANA_RATIO_HIGH, "katakana_ratio"),
    ],
)
def test_script_ratios(flt, text, reason, key):
    doc = Document(text=text, id="t")
    assert flt.filter(doc) == (True if reason is None else (False, reason))
    assert isinstance(doc.metadata[key], float)


def test_signal_values():
    doc = Document(text="症例は70歳,男性.", id="t")
    HiraganaRatioFilter().filter(doc)
    assert doc.metadata["hiragana_ratio"] == pytest.approx(0.1)


@pytest.mark.parametrize("cls", [HiraganaRatioFilter, JapaneseRatioFilter])
def test_min_ratio_range(cls):
    with pytest.raises(ValueError, match=r"min_ratio must be in \[0, 1\], got 1.5"):
        cls(min_ratio=1.5)


def test_max_ratio_range():
    with pytest.raises(ValueError, match=r"max_ratio must be in \[0, 1\], got -0.1"):
        KatakanaRatioFilter(max_ratio=-0.1)
