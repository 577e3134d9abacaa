import pytest
from datatrove.data import Document

from jmedcorpus.constants import QUALITY_MOJIBAKE
from jmedcorpus.filters.quality.mojibake import MojibakeFilter

CASE = "症例は70歳の男性。血痰を主訴に当院を紹介受診し、胸部CTで右肺上葉に結節影を認めた。"
SJIS_MOJIBAKE = CASE.encode("utf-8").decode("cp932", errors="replace")  # 逞�萓九�ｯ70豁ｳ縺ｮ...
LATIN1_MOJIBAKE = CASE.encode("utf-8").decode("latin-1")  # ç\x97\x87ä¾\x8bã\x81¯...
CP1252_MOJIBAKE = CASE.encode("utf-8").decode("cp1252", errors="replace")  # ç—‡ä¾‹ã�¯...
REPLACEMENT = "症例は\ufffd\ufffd歳の\ufffd性。\ufffd\ufffdを主訴に来院した。"
# genuine rare kanji: 縺れる (もつれる), as in a neurological finding
TANGLE = "歩行時に足が縺れるとの訴えがあり、頭部MRIを施行したが明らかな異常所見は認めなかった。"
ONE_FFFD = CASE * 3 + "\ufffd"
SJOGREN = "Sjögren症候群とSchönlein-Henoch紫斑病の鑑別を要した。体温37°C。"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (CASE, None),
        (TANGLE, None),
        (ONE_FFFD, None),
        (SJOGREN, None),
        (SJIS_MOJIBAKE, QUALITY_MOJIBAKE),
        (LATIN1_MOJIBAKE, QUALITY_MOJIBAKE),
        (CP1252_MOJIBAKE, QUALITY_MOJIBAKE),
        (REPLACEMENT, QUALITY_MOJIBAKE),
    ],
)
def test_mojibake(text, reason):
    doc = Document(text=text, id="t")
    assert MojibakeFilter().filter(doc) == (True if reason is None else (False, reason))
    assert isinstance(doc.metadata["mojibake_ratio"], float)


def test_clean_ratio_is_zero():
    doc = Document(text=CASE + SJOGREN, id="t")
    MojibakeFilter().filter(doc)
    assert doc.metadata["mojibake_ratio"] == 0.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_ratio": -0.5}, r"max_ratio must be in \[0, 1\], got -0.5"),
        ({"min_count": 0}, "min_count must be >= 1, got 0"),
    ],
)
def test_invalid(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MojibakeFilter(**kwargs)
