import pytest
from datatrove.data import Document

from jmedcorpus.constants import QUALITY_DIGIT_RATIO_HIGH, QUALITY_SYMBOL_RATIO_HIGH
from jmedcorpus.filters.quality.symbols import DigitRatioFilter, SymbolRatioFilter

# IgakuQA 115C4: option pairs joined by dash runs, the highest symbol share of 2018-2022 (0.42)
DASH_OPTIONS = (
    "酸素投与器具と流量の組合せで適切なのはどれか。\na. 鼻カニューラ --------- 1L/分\n"
    "b. 鼻カニューラ --------- 7L/分\nc. フェイスマスク --------- 1L/分\nd. フェイスマスク --------- 3L/分\n"
    "e. リザーバー付マスク --------- 4L/分"
)
# IgakuQA 118 style arithmetic options: many digits
AUDIOGRAM = (
    "右耳の平均聴力レベル(4分法)はどれか。\na. (40+50+50+60)/4=50dB\nb. (40+50+60+70)/4=55dB\n"
    "c. (50+60+60+70)/4=60dB\nd. (50+60+70+80)/4=65dB"
)
LABS = "入院時血液検査ではWBC 12,400/μL、Hb 10.2 g/dL、CRP 8.45 mg/dLと炎症反応の上昇を認めた。"
SYMBOLS = "★☆★☆★☆★☆ ■□■□■□■□ ====================\n!!!!!!!!!!!! ((((((((((( )))))))))))"
NUMBER_TABLE = "2019 2020 2021 2022\n1234 5678 9012 3456\n7890 1234 5678 9012\n3456 7890 1234 5678"


@pytest.mark.parametrize(
    ("text", "reason"),
    [(DASH_OPTIONS, None), (LABS, None), (AUDIOGRAM, None), (SYMBOLS, QUALITY_SYMBOL_RATIO_HIGH)],
)
def test_symbol_ratio(text, reason):
    doc = Document(text=text, id="t")
    assert SymbolRatioFilter().filter(doc) == (True if reason is None else (False, reason))
    assert 0.0 <= doc.metadata["symbol_ratio"] <= 1.0


@pytest.mark.parametrize(
    ("text", "reason"),
    [(LABS, None), (AUDIOGRAM, None), (DASH_OPTIONS, None), (NUMBER_TABLE, QUALITY_DIGIT_RATIO_HIGH)],
)
def test_digit_ratio(text, reason):
    doc = Document(text=text, id="t")
    assert DigitRatioFilter().filter(doc) == (True if reason is None else (False, reason))
    assert isinstance(doc.metadata["digit_ratio"], float)


def test_symbol_value():
    doc = Document(text="★★★ ☆☆☆", id="t")
    SymbolRatioFilter().filter(doc)
    assert doc.metadata["symbol_ratio"] == 1.0


@pytest.mark.parametrize("cls", [SymbolRatioFilter, DigitRatioFilter])
def test_max_ratio_range(cls):
    with pytest.raises(ValueError, match=r"max_ratio must be in \[0, 1\], got 2"):
        cls(max_ratio=2)
