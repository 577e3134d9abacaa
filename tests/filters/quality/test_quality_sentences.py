import pytest
from datatrove.data import Document

from jmedcorpus.constants import QUALITY_MEAN_SENTENCE_LENGTH, QUALITY_SENTENCE_TOO_LONG
from jmedcorpus.filters.quality.sentences import SentenceLengthFilter

RADIOLOGY = (
    "胸部CT:右肺上葉に径12mmの結節影を認める。縦隔リンパ節腫大なし。胸水なし。前回と比較して著変なし。"
)
# IgakuQA 116F3: option lines split into "a." / "甲状腺" give a mean of 3.5 characters
OPTIONS = "最も放射線感受性が低いのはどれか。\na. 甲状腺\nb. 骨髄\nc. 神経\nd. 皮膚\ne. 卵巣"
# MedTxt-CR medtxt-cr-0000 (start, normalized), one sentence per line
CASE = (
    "症例は70歳,男性.\n血疾を主訴に当院紹介となり,CT・気管支鏡検査の結果,非小細胞肺癌と診断された.\n"
    "その後,放射線化学療法(S-1 + CDDP療法)が導入され,2コース施行後の維持療法としてデュルバルマブ療法"
    "(抗PD-L1抗体療法)を行ったところ,発熱と炎症反応上昇を認めたため抗PD-L1抗体投与5日後からLVFX投与を開始した."
)
KEYWORD_BLOB = " ".join(
    ["糖尿病", "高血圧", "脂質異常症", "クリニック", "駅前", "予約", "口コミ", "評判"] * 40
)
RUN_ON = CASE.replace(".\n", ",").replace(".", ",") * 2  # ~400 characters, no sentence end
ONE_CHAR_LINES = "\n".join("あいうえおかきくけこ" * 3)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (RADIOLOGY, None),
        (OPTIONS, None),
        (CASE, None),
        (KEYWORD_BLOB, QUALITY_SENTENCE_TOO_LONG),
        (RUN_ON, QUALITY_MEAN_SENTENCE_LENGTH),
        (ONE_CHAR_LINES, QUALITY_MEAN_SENTENCE_LENGTH),
        ("", QUALITY_MEAN_SENTENCE_LENGTH),
    ],
)
def test_sentence_length(text, reason):
    doc = Document(text=text, id="t")
    assert SentenceLengthFilter().filter(doc) == (True if reason is None else (False, reason))
    assert isinstance(doc.metadata["max_sentence_length"], int)
    assert isinstance(doc.metadata["mean_sentence_length"], float)


def test_signal_values():
    doc = Document(text="胸水なし。腹水なし。心嚢液貯留なし。", id="t")
    SentenceLengthFilter().filter(doc)
    assert doc.metadata["max_sentence_length"] == 8
    assert doc.metadata["mean_sentence_length"] == pytest.approx(6.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_sentence_chars": 0}, "max_sentence_chars must be >= 1, got 0"),
        ({"min_mean_chars": -1.0}, "min_mean_chars must be >= 0, got -1.0"),
        (
            {"min_mean_chars": 50.0, "max_mean_chars": 40.0},
            r"max_mean_chars must be > min_mean_chars \(50.0\), got 40.0",
        ),
    ],
)
def test_invalid(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SentenceLengthFilter(**kwargs)
