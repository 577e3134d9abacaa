"""Validation of parsed items: the fixture outputs end to end (in file order, one near-duplicate
index), then each check on real passages and exam questions."""

from __future__ import annotations

import pickle

import pytest
from conftest import DATA, read_jsonl

from jmedcorpus import constants as C
from jmedcorpus.synth.parsing import PARSE_REASONS, ExamItem, FreeQA, parse_exam, parse_free
from jmedcorpus.synth.validation import (
    REASON_ORDER,
    ContaminationIndex,
    GroundingCheck,
    LanguageCheck,
    LengthCheck,
    NearDuplicateIndex,
    benchmark_tokens,
    content_words,
    exam_text,
    grounded,
    grounding_overlap,
    is_japanese,
    is_latin_option,
    validate_exam,
    validate_free,
)

OUTPUTS = read_jsonl(DATA / "synth_outputs.jsonl")
PASSAGES = {r["id"]: r["text"] for r in read_jsonl(DATA / "case_reports_ja.jsonl")}
IGAKUQA = read_jsonl(DATA / "igakuqa_ja.jsonl")
SYNTH_REASONS = {v for k, v in vars(C).items() if k.startswith("SYNTH_")}
VALIDATED = [r for r in OUTPUTS if r["expect"] == "accepted" or r["expect"][0] not in PARSE_REASONS]

P_UDCA = PASSAGES["medtxt-cr-0002"]  # nivolumab cholangitis: PSL, then UDCA added
P_PTO = PASSAGES["medtxt-cr-0009"]  # intrahepatic portosystemic shunt closed by PTO


@pytest.fixture(scope="module")
def contamination() -> ContaminationIndex:
    return ContaminationIndex.from_jsonl(DATA / "igakuqa_ja.jsonl")


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


def exam(question, options, answer="a", explanation="") -> ExamItem:
    return ExamItem(question, list(options), answer, explanation)


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


def test_every_synth_reason_is_engine_parse_or_validation():
    from jmedcorpus.constants import SYNTH_ENGINE_ERROR, SYNTH_MAX_TOKENS, SYNTH_PROMPT_TOO_LONG

    engine = {SYNTH_PROMPT_TOO_LONG, SYNTH_ENGINE_ERROR, SYNTH_MAX_TOKENS}
    assert set(PARSE_REASONS) | set(REASON_ORDER) | engine == SYNTH_REASONS
    assert all(r.startswith("synth_") and r == r.lower() for r in SYNTH_REASONS)


def test_the_near_duplicate_is_similar_but_not_identical():
    raws = {r["id"]: r["raw"] for r in OUTPUTS}
    a, b = (exam_text(parse_exam(raws[k])) for k in ("exam-json-valid", "exam-near-duplicate"))
    assert a != b
    index = NearDuplicateIndex()
    index.add(a)
    assert 0.8 <= index.max_similarity(b) < 1.0


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


# --- grounding ---------------------------------------------------------------------------------
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


# --- near-duplicates ---------------------------------------------------------------------------
def test_near_duplicate_index():
    index = NearDuplicateIndex()
    first = "本症例で胆管炎の再増悪時に追加された薬剤はどれか。\nPSL\nUDCA\nMMF\nLVFX\nCMZ"
    assert index.offer(first) and len(index) == 1
    assert not index.offer(first) and index.max_similarity(first) == 1.0
    assert index.is_duplicate(
        "本症例で胆管炎の再増悪時に追加された薬剤はどれか。\nPSL\nUDCA\nMMF\nLVFX\nCMZ\n"
    )
    other = "本症例で胆管炎の診断時に投与が中止された薬剤はどれか。\nPSL\nUDCA\nニボルマブ\nLVFX\nCMZ"
    assert index.max_similarity(other) < 0.8 and index.offer(other) and len(index) == 2
    assert index.max_similarity("") == 0.0 and index.max_similarity("。、 ") == 0.0


def test_near_duplicate_index_grows():
    index = NearDuplicateIndex()
    texts = [f"{i}歳の男性。{PASSAGES['medtxt-cr-0002'][i * 10 : i * 10 + 40]}" for i in range(70)]
    accepted = [t for t in texts if index.offer(t)]
    assert len(index) == len(accepted) > 64
    assert all(index.is_duplicate(t) for t in accepted)


def test_near_duplicate_threshold_is_a_parameter():
    a = exam_text(parse_exam(next(r["raw"] for r in OUTPUTS if r["id"] == "exam-json-valid")))
    b = exam_text(parse_exam(next(r["raw"] for r in OUTPUTS if r["id"] == "exam-near-duplicate")))
    strict = NearDuplicateIndex(threshold=0.95)
    strict.add(a)
    assert not strict.is_duplicate(b)


# --- contamination -----------------------------------------------------------------------------
@pytest.mark.parametrize("rec", IGAKUQA, ids=[r["id"] for r in IGAKUQA])
def test_copied_benchmark_questions_are_contaminated(rec, contamination):
    text = rec["text"]
    assert contamination.overlap(text) == 1.0 and contamination.contaminated(text)
    # the same question typeset with full-width labels and letters, options in another style
    wide = text.replace("a. ", "ａ．").replace("b. ", "ｂ．").replace("c. ", "（ｃ）").replace("G", "Ｇ")
    assert contamination.contaminated(wide)
    stem = text.split("\n")[0]  # a copied stem alone, when long enough to judge
    assert contamination.contaminated(stem) is (len(benchmark_tokens(stem)) >= contamination.n)


@pytest.mark.parametrize("rec_id", sorted(PASSAGES))
def test_case_reports_are_not_contaminated(rec_id, contamination):
    assert contamination.overlap(PASSAGES[rec_id]) == 0.0


def test_copied_stem_with_new_options_is_caught_by_validate_exam(contamination):
    item = exam(
        "高アンモニア血症をきたす疾患はどれか。",
        ["肝内門脈肝静脈シャント", "心筋梗塞", "大動脈弁狭窄症", "脂肪肝", "胆石症"],
        "a",
        "本症例は肝内門脈肝静脈シャントによる高アンモニア血症で、肝性脳症をきたした。",
    )
    assert validate_exam(item, P_PTO, dedup=None, contamination=contamination) == [C.SYNTH_CONTAMINATED]


def test_template_phrases_alone_are_not_contamination(contamination):
    # "…について正しいのはどれか。" is in every exam; a new question sharing it is not a copy
    assert not contamination.contaminated("免疫関連有害事象としての胆管炎について正しいのはどれか。")


def test_contamination_index_parameters_and_pickle(tmp_path, contamination):
    any_gram = ContaminationIndex.from_texts([r["text"] for r in IGAKUQA], n=4, min_fraction=0.0)
    assert any_gram.contaminated("睡眠について正しいのはどれか。")  # "について正しいのは…" is shared
    assert not ContaminationIndex.from_texts([], n=10).contaminated(IGAKUQA[0]["text"])
    assert not contamination.contaminated("高アンモニア血症")  # shorter than n tokens
    clone = pickle.loads(pickle.dumps(contamination))
    assert len(clone) == len(contamination) and clone.overlap(IGAKUQA[2]["text"]) == 1.0
    with pytest.raises(ValueError, match="n must be"):
        ContaminationIndex.from_texts(["x"], n=0)
    bad = tmp_path / "bench.jsonl"
    bad.write_text(
        '{"text": "睡眠について正しいのはどれか。"}\n{"question": "秘密の症例"}\n', encoding="utf-8"
    )
    with pytest.raises(ValueError, match=r"bench.jsonl:2: no string field 'text'") as err:
        ContaminationIndex.from_jsonl(bad)
    assert "秘密" not in str(err.value)
    assert ContaminationIndex.from_jsonl(DATA / "igakuqa_ja.jsonl", n=13).contaminated(IGAKUQA[0]["text"])


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
