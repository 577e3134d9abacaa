import pytest
from datatrove.data import Document

from jmedcorpus.constants import QUALITY_TOO_LONG, QUALITY_TOO_SHORT
from jmedcorpus.filters.quality.length import DocLengthFilter

RADIOLOGY = (
    "胸部CT：右肺上葉に径12mmの結節影を認める。縦隔リンパ節腫大なし。胸水なし。前回と比較して著変なし。"
)
QUESTION = (
    "最も放射線感受性が低いのはどれか。\na. 甲状腺\nb. 骨髄\nc. 神経\nd. 皮膚\ne. 卵巣"  # IgakuQA 116F3
)


@pytest.mark.parametrize(
    ("text", "reason", "chars"),
    [
        (RADIOLOGY, None, 52),
        (QUESTION, None, 38),  # 48 characters with newlines and spaces
        ("発熱なし。", QUALITY_TOO_SHORT, 5),
        ("", QUALITY_TOO_SHORT, 0),
        (" \n\u3000\t\n ", QUALITY_TOO_SHORT, 0),
        ("参考文献", QUALITY_TOO_SHORT, 4),
    ],
)
def test_doc_length(text, reason, chars):
    doc = Document(text=text, id="t")
    result = DocLengthFilter().filter(doc)
    assert result == (True if reason is None else (False, reason))
    assert doc.metadata["non_space_chars"] == chars


def test_too_long():
    doc = Document(text=RADIOLOGY * 10, id="t")
    assert DocLengthFilter(max_chars=100).filter(doc) == (False, QUALITY_TOO_LONG)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_chars": 51}, "min_chars must be in [0, 50], got 51"),
        ({"min_chars": 20, "max_chars": 10}, "max_chars"),
    ],
)
def test_invalid_thresholds(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        DocLengthFilter(**kwargs)
