"""Grounding of answers in their passage, on real case-report passages."""

from __future__ import annotations

import pytest
from validation_data import P_PTO, P_UDCA, exam

from jmedcorpus.synth.grounding import GroundingCheck, content_words, grounded, grounding_overlap


def test_content_words_drop_function_words_and_single_characters():
    words = content_words("肝生検では門脈域に中等度の炎症細胞浸潤がみられた。")
    assert "では" not in words and "が" not in words and "みられ" not in words
    assert {"生検", "門脈", "炎症", "細胞", "浸潤"} <= set(words)
    assert content_words("ＡＳＴ　９１Ｕ／ｌ") == ["ast", "91"]  # NFKC; "u", "l" are too short
    assert content_words("これはどれか。") == []


@pytest.mark.parametrize(
    ("answer", "passage", "expected"),
    [
        ("UDCA 600 mgの追加", P_UDCA, True),  # half-width answer, full-width passage
        ("ウルソデオキシコール酸（UDCA）", P_UDCA, True),  # 1 of 2 words: the abbreviation
        ("リファキシミンの投与", P_UDCA, False),
        ("経皮経肝塞栓術（PTO）", P_PTO, True),
        ("タクロリムスの内服を開始した。", P_PTO, False),
        ("肝内門脈肝静脈シャントに対する金属コイル塞栓", P_PTO, True),
        ("どれか。", P_PTO, True),  # no content words: nothing to check
    ],
)
def test_grounded(answer, passage, expected):
    assert grounded(answer, passage) is expected


def test_ascii_words_match_whole_words_only():
    # "ast" inside "breast" is not the liver enzyme; "15" inside "150" is not a dose of 15
    assert grounding_overlap("AST高値", "BREAST高値") == 0.5
    assert grounding_overlap("15 mg", "ＰＳＬ１５０ｍｇ") == 0.5
    assert grounding_overlap("15 mg", "ＰＳＬ１５ｍｇ") == 1.0


def test_exam_grounding_needs_both_option_and_explanation():
    options = ["PSL", "UDCA", "MMF", "LVFX", "CMZ"]
    good = "PSL 15 mgまで減量した時点で胆管炎の再増悪を認めたため、UDCA 600 mgが追加された。"
    bad = "肝移植の待機中にタクロリムスとバシリキシマブが導入された。"
    check = GroundingCheck()
    assert check.exam(exam("追加された薬剤はどれか。", options, "b", good), P_UDCA)
    assert not check.exam(exam("追加された薬剤はどれか。", options, "b", bad), P_UDCA)
    assert not check.exam(exam("追加された薬剤はどれか。", [*options[:4], "タクロリムス"], "e", good), P_UDCA)
    # exam vocabulary in the explanation is not held against it
    meta = "正解はbである。選択肢aは誤り。本症例ではUDCAが追加された。"
    assert check.exam(exam("追加された薬剤はどれか。", options, "b", meta), P_UDCA)
    assert not GroundingCheck(min_explanation_overlap=1.0).exam(
        exam("追加された薬剤はどれか。", options, "b", good + "胆汁酸製剤である。"), P_UDCA
    )


def test_grounding_check_rejects_bad_thresholds():
    with pytest.raises(ValueError, match="min_option_overlap"):
        GroundingCheck(min_option_overlap=2)
