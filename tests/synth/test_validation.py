"""Validation of parsed items: the fixture outputs end to end (in file order, one near-duplicate
index), then the language and length checks on real exam questions, then validate_exam/_free.
Grounding, near-duplicates and contamination have their own test modules."""

from __future__ import annotations

import pytest
from validation_data import IGAKUQA, OUTPUTS, P_PTO, P_UDCA, PASSAGES, exam

from jmedcorpus import constants as C
from jmedcorpus.synth.grounding import GroundingCheck
from jmedcorpus.synth.items import FreeQA
from jmedcorpus.synth.near_duplicates import NearDuplicateIndex
from jmedcorpus.synth.parsing import PARSE_REASONS, parse_exam, parse_free
from jmedcorpus.synth.validation import (
    REASON_ORDER,
    LanguageCheck,
    LengthCheck,
    is_japanese,
    is_latin_option,
    validate_exam,
    validate_free,
)

SYNTH_REASONS = {v for k, v in vars(C).items() if k.startswith("SYNTH_")}
VALIDATED = [r for r in OUTPUTS if r["expect"] == "accepted" or r["expect"][0] not in PARSE_REASONS]


@pytest.fixture(scope="module")
def fixture_results(contamination) -> dict[str, list[str]]:
    """Every parsed fixture output validated in file order through one near-duplicate index,
    as `jmedcorpus synth` does with a stream of outputs."""
    dedup = NearDuplicateIndex()
    results = {}
    for rec in VALIDATED:
        passage = PASSAGES[rec["passage_id"]]
        if rec["kind"] == "exam":
            reasons = validate_exam(parse_exam(rec["raw"]), passage, dedup=dedup, contamination=contamination)
        else:
            reasons = validate_free(parse_free(rec["raw"]), passage, dedup=dedup, contamination=contamination)
        results[rec["id"]] = reasons
    return results


# --- the fixture outputs -----------------------------------------------------------------------
@pytest.mark.parametrize("rec", VALIDATED, ids=[r["id"] for r in VALIDATED])
def test_fixture_output_validates_as_expected(rec, fixture_results):
    expect = [] if rec["expect"] == "accepted" else rec["expect"]
    assert fixture_results[rec["id"]] == expect


def test_fixture_expectations_use_defined_reasons_in_order():
    for rec in OUTPUTS:
        assert rec["passage_id"] in PASSAGES, rec["id"]
        if rec["expect"] != "accepted":
            assert set(rec["expect"]) <= SYNTH_REASONS, rec["id"]
            order = [r for r in (*PARSE_REASONS, *REASON_ORDER) if r in rec["expect"]]
            assert rec["expect"] == order, rec["id"]


def test_every_synth_reason_is_engine_parse_validation_model_check_or_master():
    from jmedcorpus.constants import SYNTH_ENGINE_ERROR, SYNTH_MAX_TOKENS, SYNTH_PROMPT_TOO_LONG
    from jmedcorpus.synth.ehr_master import MASTER_REASONS
    from jmedcorpus.synth.model_checks import CHECK_REASONS

    engine = {SYNTH_PROMPT_TOO_LONG, SYNTH_ENGINE_ERROR, SYNTH_MAX_TOKENS}
    found = set(PARSE_REASONS) | set(REASON_ORDER) | engine | set(CHECK_REASONS) | set(MASTER_REASONS)
    assert found == SYNTH_REASONS
    assert all(r.startswith("synth_") and r == r.lower() for r in SYNTH_REASONS)


# --- language ----------------------------------------------------------------------------------
@pytest.mark.parametrize("rec", IGAKUQA, ids=[r["id"] for r in IGAKUQA])
def test_real_exam_questions_are_japanese(rec):
    assert is_japanese(rec["text"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("本症例で胆管炎の再増悪時に追加された薬剤はどれか。", True),
        ("Grey-Turner徴候はどれか。", True),  # a Latin eponym, rescued by its kana
        ("Which drug was added when the cholangitis recurred?", False),
        ("本病例为一名七十岁男性，因咯血就诊，诊断为非小细胞肺癌。", False),  # Chinese: no kana
        ("", False),
    ],
)
def test_is_japanese(text, expected):
    assert is_japanese(text) is expected


def test_kana_rescue():
    text = "von Gierke病はどれか。"  # ja at 0.53, 27 % kana
    assert is_japanese(text) and is_japanese(text, min_score=0.9)  # rescued by its kana
    assert not is_japanese(text, min_score=0.9, min_kana_ratio=0.5)
    # kana do not make an English sentence Japanese (12 % kana, en on top)
    assert not is_japanese("The patient received ニボルマブ for laryngeal cancer.", min_kana_ratio=0.01)


@pytest.mark.parametrize(
    ("options", "ok"),
    [
        (
            [
                "ウルソデオキシコール酸",
                "ミコフェノール酸モフェチル",
                "インフリキシマブ",
                "タクロリムス",
                "LVFX",
            ],
            True,
        ),
        (["Gaucher病", "Fabry病", "Hurler症候群", "Pompe病", "Wilson病"], True),  # fastText: zh
        (["AST", "ALT", "ALP", "γ-GTP", "LDH"], True),  # abbreviations are neutral
        (["Escherichia coli", "Klebsiella pneumoniae", "肺炎球菌", "黄色ブドウ球菌", "緑膿菌"], True),
        (
            ["Prednisolone", "Ursodeoxycholic acid", "Mycophenolate mofetil", "Tacrolimus", "Infliximab"],
            False,
        ),
        (
            [
                "Discontinue nivolumab",
                "Add ursodeoxycholic acid",
                "Liver transplantation",
                "肝生検",
                "経過観察",
            ],
            False,
        ),
    ],
)
def test_options_language(options, ok):
    assert LanguageCheck().options(options) is ok


def test_latin_options_tolerated_is_a_parameter():
    options = ["Escherichia coli", "Klebsiella pneumoniae", "肺炎球菌", "黄色ブドウ球菌", "緑膿菌"]
    assert not LanguageCheck(max_latin_options=1).options(options)
    assert is_latin_option("Spur cell anemia") and not is_latin_option("Spur cell anemiaの合併")


def test_language_check_rejects_bad_thresholds():
    with pytest.raises(ValueError, match="min_score"):
        LanguageCheck(min_score=1.5)
    with pytest.raises(ValueError, match="max_latin_options"):
        LanguageCheck(max_latin_options=-1)


# --- length ------------------------------------------------------------------------------------
def test_lengths():
    ok = exam(
        "本症例で追加された薬剤はどれか。",
        ["PSL", "UDCA", "MMF", "LVFX", "CMZ"],
        "b",
        "胆管炎の再増悪時にUDCAが追加された。",
    )
    assert LengthCheck().exam(ok) == []
    long_option = exam(ok.question, [*ok.options[:4], "あ" * 81], "b", ok.explanation)
    assert LengthCheck().exam(long_option) == [C.SYNTH_OPTION_TOO_LONG]
    assert LengthCheck(max_option_chars=100).exam(long_option) == []
    too_long = exam("問" * 1201, ok.options, "b", "解" * 2001)
    assert LengthCheck().exam(too_long) == [C.SYNTH_QUESTION_TOO_LONG, C.SYNTH_EXPLANATION_TOO_LONG]
    assert LengthCheck().free(FreeQA("追加された薬剤は何か。", "UDCA。")) == [C.SYNTH_ANSWER_TOO_SHORT]
    assert LengthCheck().free(FreeQA("薬剤は？", "  " + "あ" * 1001)) == [
        C.SYNTH_QUESTION_TOO_SHORT,
        C.SYNTH_ANSWER_TOO_LONG,
    ]
    with pytest.raises(ValueError, match="question"):
        LengthCheck(min_question_chars=100, max_question_chars=10)


def test_copied_stem_with_new_options_is_caught_by_validate_exam(contamination):
    item = exam(
        "高アンモニア血症をきたす疾患はどれか。",
        ["肝内門脈肝静脈シャント", "心筋梗塞", "大動脈弁狭窄症", "脂肪肝", "胆石症"],
        "a",
        "本症例は肝内門脈肝静脈シャントによる高アンモニア血症で、肝性脳症をきたした。",
    )
    assert validate_exam(item, P_PTO, dedup=None, contamination=contamination) == [C.SYNTH_CONTAMINATED]


# --- validate_exam / validate_free -------------------------------------------------------------
def test_all_reasons_in_fixed_order(contamination):
    item = exam(
        "Which?",
        ["Prednisolone", "Ursodeoxycholic acid", "Mycophenolate mofetil", "Tacrolimus", "Infliximab"],
        "d",
        "Started.",
    )
    reasons = validate_exam(item, P_UDCA, dedup=NearDuplicateIndex(), contamination=contamination)
    assert reasons == [
        C.SYNTH_QUESTION_TOO_SHORT,
        C.SYNTH_EXPLANATION_TOO_SHORT,
        C.SYNTH_QUESTION_NOT_JAPANESE,
        C.SYNTH_OPTIONS_NOT_JAPANESE,
        C.SYNTH_EXPLANATION_NOT_JAPANESE,
        C.SYNTH_NOT_GROUNDED,
    ]
    assert reasons == sorted(reasons, key=REASON_ORDER.index)


def test_rejected_items_are_not_remembered_as_accepted():
    item = parse_exam(next(r["raw"] for r in OUTPUTS if r["id"] == "exam-json-valid"))
    dedup = NearDuplicateIndex()
    assert validate_exam(item, P_PTO, dedup=dedup, contamination=None) == [C.SYNTH_NOT_GROUNDED]
    assert len(dedup) == 0
    assert validate_exam(item, P_UDCA, dedup=dedup, contamination=None) == []
    assert len(dedup) == 1
    assert validate_exam(item, P_UDCA, dedup=dedup, contamination=None) == [C.SYNTH_DUPLICATE]
    assert validate_exam(item, P_PTO, dedup=dedup, contamination=None) == [
        C.SYNTH_NOT_GROUNDED,
        C.SYNTH_DUPLICATE,
    ]


def test_validate_free_checks_question_and_answer(contamination):
    qa = FreeQA("睡眠について正しいのはどれか。", "深いノンレム睡眠は朝方に向けて減少する。")
    assert validate_free(qa, PASSAGES["medtxt-cr-0007"], dedup=None, contamination=contamination) == [
        C.SYNTH_NOT_GROUNDED,
        C.SYNTH_CONTAMINATED,
    ]
    qa = FreeQA("本症例で胆管炎の再増悪時に追加された薬剤は何か。", "UDCA 600 mgが追加された。")
    assert validate_free(qa, P_UDCA, dedup=None, contamination=contamination) == []
    strict = GroundingCheck(min_answer_overlap=1.0)
    lenient_lengths = LengthCheck(min_answer_chars=0)
    qa = FreeQA("本症例で胆管炎の再増悪時に追加された薬剤は何か。", "UDCAと胆汁酸製剤。")
    assert validate_free(
        qa, P_UDCA, dedup=None, contamination=None, grounding=strict, lengths=lenient_lengths
    ) == [C.SYNTH_NOT_GROUNDED]
