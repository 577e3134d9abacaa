"""Parsing of model outputs: the hand-written fixture outputs, then the formats one by one."""

from __future__ import annotations

import json

import pytest
from conftest import DATA, read_jsonl

from jmedcorpus import constants as C
from jmedcorpus.synth.items import ExamItem, FreeQA, Rejection, label_letter
from jmedcorpus.synth.parsing import PARSE_REASONS, parse_exam, parse_free

OUTPUTS = read_jsonl(DATA / "synth_outputs.jsonl")
SCHEMA_WORDS = ("question", "options", "answer", "explanation")

QUESTION = "本症例で胆管炎の再増悪時に追加された薬剤はどれか。"
OPTIONS = ["PSL", "UDCA", "MMF", "LVFX", "CMZ"]
EXPLANATION = "PSL 15 mgまで減量した時点で胆管炎が再増悪し、UDCA 600 mgが追加された。"


def exam_json(**changes) -> str:
    obj = {"question": QUESTION, "options": OPTIONS, "answer": "b", "explanation": EXPLANATION}
    obj.update(changes)
    return json.dumps({k: v for k, v in obj.items() if v is not None}, ensure_ascii=False)


def exam_text(labels=("a.", "b.", "c.", "d.", "e."), answer="[ans]b[/ans]", options=OPTIONS) -> str:
    lines = [QUESTION, *(f"{label} {o}" for label, o in zip(labels, options)), answer, f"解説: {EXPLANATION}"]
    return "\n".join(lines)


def assert_no_leak(raw: str, result) -> None:
    """No 5-character piece of the output in a rejection's detail (field names excepted: they are
    our schema's words, which a JSON output repeats as its keys)."""
    if not isinstance(result, Rejection):
        return
    grams = {raw[i : i + 5] for i in range(len(raw) - 4)}
    leaked = [g for g in grams if g in result.detail and not any(g in w for w in SCHEMA_WORDS)]
    assert not leaked, (result.reason, leaked)


# --- the fixture outputs -----------------------------------------------------------------------
@pytest.mark.parametrize("rec", OUTPUTS, ids=[r["id"] for r in OUTPUTS])
def test_fixture_output_parses_as_expected(rec):
    parse = parse_exam if rec["kind"] == "exam" else parse_free
    result = parse(rec["raw"])
    expect = rec["expect"]
    if expect != "accepted" and expect[0] in PARSE_REASONS:
        assert len(expect) == 1, "a parse rejection is the only reason"
        assert isinstance(result, Rejection), result
        assert result.reason == expect[0], result
    else:
        assert isinstance(result, ExamItem if rec["kind"] == "exam" else FreeQA), result
        if rec["kind"] == "exam":
            assert len(result.options) == 5 and result.answer in "abcde"
            assert all(o and o == o.strip() for o in result.options)
            assert result.question and result.explanation
    assert_no_leak(rec["raw"], result)


def test_fixtures_cover_every_parse_reason_but_multiple_answers():
    seen = {r["expect"][0] for r in OUTPUTS if r["expect"] != "accepted"}
    assert set(PARSE_REASONS) - seen == {C.SYNTH_MULTIPLE_ANSWERS}  # covered by unit tests below


@pytest.mark.parametrize("rec", OUTPUTS, ids=[r["id"] for r in OUTPUTS])
def test_cut_outputs_never_leak_text(rec):
    """An output cut anywhere (as max_tokens does) is parsed or rejected, never crashes, and a
    rejection's detail holds no generated text."""
    parse = parse_exam if rec["kind"] == "exam" else parse_free
    raw = rec["raw"]
    for cut in range(1, len(raw), 23):
        assert_no_leak(raw[:cut], parse(raw[:cut]))


def test_text_fixture_fields():
    rec = next(r for r in OUTPUTS if r["id"] == "exam-text-ans-tag")
    item = parse_exam(rec["raw"])
    assert item.question.startswith("68歳の男性。") and item.question.endswith("最も適切なのはどれか。")
    assert item.options[2] == "経皮経肝塞栓術（PTO）" and item.answer == "c"
    assert item.answer_text == "経皮経肝塞栓術（PTO）"
    assert item.explanation.startswith("肝臓に基礎疾患のない") and "[ans]" not in item.explanation


def test_fenced_json_ignores_chatter():
    rec = next(r for r in OUTPUTS if r["id"] == "exam-json-fenced-chatter")
    item = parse_exam(rec["raw"])
    assert item.answer == "a" and "ご確認" not in item.explanation and "作成しました" not in item.question


# --- option labels -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "labels",
    [
        ("a.", "b.", "c.", "d.", "e."),
        ("a)", "b)", "c)", "d)", "e)"),
        ("(a)", "(b)", "(c)", "(d)", "(e)"),
        ("A.", "B.", "C.", "D.", "E."),
        ("ａ．", "ｂ．", "ｃ．", "ｄ．", "ｅ．"),
        ("（ａ）", "（ｂ）", "（ｃ）", "（ｄ）", "（ｅ）"),
        ("Ａ.", "Ｂ.", "Ｃ.", "Ｄ.", "Ｅ."),
        ("a、", "b、", "c、", "d、", "e、"),
        ("- a.", "- b.", "- c.", "- d.", "- e."),
        ("**a.**", "**b.**", "**c.**", "**d.**", "**e.**"),
    ],
)
def test_option_label_variants(labels):
    item = parse_exam(exam_text(labels))
    assert isinstance(item, ExamItem), item
    assert item.options == OPTIONS and item.answer == "b" and item.question == QUESTION


def test_exam_booklet_labels_letter_and_ideographic_space():
    options = ["胆管炎", "肝膿瘍", "肝細胞癌", "自己免疫性肝炎", "薬物性肝障害"]
    item = parse_exam(exam_text(("a\u3000", "b\u3000", "c\u3000", "d\u3000", "e\u3000"), options=options))
    assert item.options == options


def test_question_line_starting_with_a_letter_is_not_an_option():
    raw = "C型肝硬変の80歳女性。\nA型肝炎ウイルス抗体は陰性であった。" + exam_text()[len(QUESTION) :]
    item = parse_exam(raw)
    assert item.question == "C型肝硬変の80歳女性。\nA型肝炎ウイルス抗体は陰性であった。"


@pytest.mark.parametrize(
    ("label", "letter"), [("a", "a"), ("C", "c"), ("ｃ", "c"), ("Ｄ", "d"), ("(e)", "e"), ("（ｂ）", "b")]
)
def test_label_letter(label, letter):
    assert label_letter(label) == letter


# --- answers -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "answer",
    ["b", "B", "(b)", "（ｂ）", "ｂ", "Ｂ", "b.", "bです", "b。", "UDCA", "ＵＤＣＡ", "b. UDCA", "[b]"],
)
def test_json_answer_spellings(answer):
    item = parse_exam(exam_json(answer=answer))
    assert isinstance(item, ExamItem), item
    assert item.answer == "b"


@pytest.mark.parametrize(
    "line",
    [
        "[ans]b[/ans]",
        "[ANS]B[/ANS]",
        "［ａｎｓ］ｂ［／ａｎｓ］",
        "正解: b",
        "答え：ｂ",
        "正解はbである。",
        "【正解】b",
    ],
)
def test_text_answer_spellings(line):
    item = parse_exam(exam_text(answer=line))
    assert isinstance(item, ExamItem), item
    assert item.answer == "b" and "正解" not in item.explanation


def test_answer_tag_inside_explanation_sentence():
    raw = exam_text(answer="").replace(
        f"解説: {EXPLANATION}", f"解説: {EXPLANATION}よって正解は[ans]b[/ans]である。"
    )
    item = parse_exam(raw)
    assert item.answer == "b" and item.explanation.endswith("よって正解はbである。")


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("f", C.SYNTH_ANSWER_NOT_IN_OPTIONS),
        ("ｆ", C.SYNTH_ANSWER_NOT_IN_OPTIONS),
        (3, C.SYNTH_ANSWER_NOT_IN_OPTIONS),
        ("プレドニゾロン", C.SYNTH_ANSWER_NOT_IN_OPTIONS),
        ("b, d", C.SYNTH_MULTIPLE_ANSWERS),
        ("bとd", C.SYNTH_MULTIPLE_ANSWERS),
        (["b", "d"], C.SYNTH_MULTIPLE_ANSWERS),
        ("", C.SYNTH_MISSING_FIELD),
    ],
)
def test_bad_json_answers(answer, reason):
    raw = exam_json(answer=answer)
    result = parse_exam(raw)
    assert isinstance(result, Rejection) and result.reason == reason, result
    assert_no_leak(raw, result)


def test_answer_as_single_item_list():
    assert parse_exam(exam_json(answer=["b"])).answer == "b"


def test_two_answer_tags_disagreeing():
    result = parse_exam(exam_text(answer="[ans]b[/ans]\n[ans]d[/ans]"))
    assert result.reason == C.SYNTH_MULTIPLE_ANSWERS


# --- JSON shapes -------------------------------------------------------------------------------
def test_options_as_object_keyed_by_letter():
    options = {"Ｅ": "CMZ", "a": "PSL", "B": "UDCA", "(c)": "MMF", "d.": "LVFX"}
    item = parse_exam(exam_json(options=options))
    assert item.options == OPTIONS and item.answer == "b"


def test_labelled_options_in_a_list_are_stripped():
    item = parse_exam(exam_json(options=[f"{x}. {o}" for x, o in zip("abcde", OPTIONS)]))
    assert item.options == OPTIONS


def test_options_as_one_string_of_labelled_lines():
    item = parse_exam(exam_json(options="\n".join(f"{x}. {o}" for x, o in zip("abcde", OPTIONS))))
    assert item.options == OPTIONS
    assert parse_exam(exam_json(options="PSL, UDCA, MMF, LVFX, CMZ")).reason == C.SYNTH_MISSING_FIELD


def test_japanese_keys_and_case():
    raw = json.dumps(
        {"問題": QUESTION, "選択肢": OPTIONS, "正解": "ｂ", "解説": EXPLANATION}, ensure_ascii=False
    )
    assert parse_exam(raw).answer == "b"
    assert parse_exam(exam_json().replace('"question"', '"Question"')).question == QUESTION


def test_lenient_json_newlines_in_strings_and_trailing_comma():
    raw = exam_json(explanation="一行目\n二行目").replace("\\n", "\n")[:-1] + ",}"
    item = parse_exam("```\n" + raw + "\n```")
    assert item.explanation == "一行目\n二行目"


def test_json_inside_a_list_and_chatter():
    item = parse_exam("はい、作成しました。\n[" + exam_json() + "]\n以上です。")
    assert item.answer == "b"


@pytest.mark.parametrize(
    ("raw", "reason", "detail"),
    [
        ("", C.SYNTH_UNPARSEABLE, "empty output"),
        ("   \n", C.SYNTH_UNPARSEABLE, "empty output"),
        ('{"question": "本症例で', C.SYNTH_TRUNCATED, "JSON object not closed"),
        ('```json\n{"question": "本症例の診断は", "options": ["胆管炎", "肝炎"', C.SYNTH_TRUNCATED, ""),
        ('{"question": "本症例の診断は" "options": []}', C.SYNTH_UNPARSEABLE, "invalid JSON"),
        (
            exam_text(answer="")[: -len(EXPLANATION) - 5] + "\n[ans]b",
            C.SYNTH_TRUNCATED,
            "answer tag not closed",
        ),
        (exam_json(explanation=None), C.SYNTH_MISSING_FIELD, "explanation"),
        (exam_json(answer=None, explanation=None), C.SYNTH_MISSING_FIELD, "answer, explanation"),
        (exam_json(question=["本症例", 3]), C.SYNTH_MISSING_FIELD, "question"),
        (exam_json(options=OPTIONS[:3] + ["", "CMZ"]), C.SYNTH_MISSING_FIELD, "option d empty"),
        (exam_json(options=[*OPTIONS, "TAZ/PIPC"]), C.SYNTH_WRONG_OPTION_COUNT, "6 options, expected 5"),
        (exam_json(options=["PSL", "UDCA", "ＰＳＬ", "LVFX", "CMZ"]), C.SYNTH_DUPLICATE_OPTIONS, "a=c"),
        (exam_text(answer=""), C.SYNTH_MISSING_FIELD, "answer"),
        (exam_text().split("\n解説")[0], C.SYNTH_MISSING_FIELD, "explanation"),
        (exam_text(labels=("1.", "2.", "3.", "4.", "5.")), C.SYNTH_MISSING_FIELD, "options"),
    ],
)
def test_rejections(raw, reason, detail):
    result = parse_exam(raw)
    assert isinstance(result, Rejection), result
    assert result.reason == reason and result.detail.startswith(detail), result
    assert_no_leak(raw, result)


def test_unclosed_answer_tag_followed_by_text_is_read():
    raw = exam_text(answer="[ans]b")
    assert parse_exam(raw).answer == "b"


# --- text layout -------------------------------------------------------------------------------
def test_explanation_enumerating_options_does_not_add_options():
    raw = (
        exam_text(answer="[ans]b[/ans]").split("\n解説")[0] + "\na. 誤り。PSLは減量中であった。\nb. 正しい。"
    )
    item = parse_exam(raw)
    assert item.options == OPTIONS
    assert item.explanation == "a. 誤り。PSLは減量中であった。\nb. 正しい。"


def test_headers_chatter_and_markdown():
    raw = (
        "承知しました。以下に問題を作成します。\n\n"
        f"### 問題\n{QUESTION}\n\n**選択肢**\n"
        + "\n".join(f"{x}) {o}" for x, o in zip("abcde", OPTIONS))
        + f"\n\n**正解**: b\n\n**解説**: {EXPLANATION}\n"
    )
    item = parse_exam(raw)
    assert item.question == QUESTION and item.options == OPTIONS and item.answer == "b"
    assert item.explanation == EXPLANATION


def test_chatter_without_header_is_dropped():
    item = parse_exam("以下に問題を作成しました。\n\n" + exam_text())
    assert item.question == QUESTION


def test_question_header_with_number_and_multiline_question():
    raw = "問1. 60歳代の男性。喉頭癌に対しニボルマブを投与中であった。\n" + exam_text()
    item = parse_exam(raw)
    assert item.question == "60歳代の男性。喉頭癌に対しニボルマブを投与中であった。\n" + QUESTION


def test_explanation_word_inside_a_question_is_not_a_header():
    raw = "説明として正しいのはどれか。\n" + "\n".join(exam_text().split("\n")[1:])
    assert parse_exam(raw).question == "説明として正しいのはどれか。"


# --- free QA -----------------------------------------------------------------------------------
FREE_Q = "本症例で胆管炎の再増悪時に追加された薬剤は何か。"
FREE_A = "PSL 15 mgまで減量した時点で胆管炎が再増悪したため、UDCA 600 mgが追加された。"


@pytest.mark.parametrize(
    "raw",
    [
        json.dumps({"question": FREE_Q, "answer": FREE_A}, ensure_ascii=False),
        "```json\n" + json.dumps({"質問": FREE_Q, "回答": FREE_A}, ensure_ascii=False) + "\n```",
        f"質問: {FREE_Q}\n回答: {FREE_A}",
        f"質問：{FREE_Q}\n\n回答：{FREE_A}",
        f"Q: {FREE_Q}\nA: {FREE_A}",
        f"Ｑ：{FREE_Q}\nＡ：{FREE_A}",
        f"**質問**: {FREE_Q}\n**回答**: {FREE_A}",
        f"【質問】{FREE_Q}\n【回答】{FREE_A}",
        f"以下の通り作成しました。\n質問: {FREE_Q}\n回答: {FREE_A}",
        f"問: {FREE_Q}\n答: {FREE_A}",
    ],
)
def test_free_formats(raw):
    qa = parse_free(raw)
    assert isinstance(qa, FreeQA), qa
    assert qa == FreeQA(FREE_Q, FREE_A)


def test_free_multiline():
    qa = parse_free(f"質問:\n{FREE_Q}\n回答:\n{FREE_A}\nその後胆管炎は改善した。")
    assert qa == FreeQA(FREE_Q, FREE_A + "\nその後胆管炎は改善した。")


@pytest.mark.parametrize(
    ("raw", "reason", "detail"),
    [
        ("", C.SYNTH_UNPARSEABLE, "empty output"),
        (FREE_A, C.SYNTH_UNPARSEABLE, "no JSON object"),
        (f"質問: {FREE_Q}", C.SYNTH_MISSING_FIELD, "answer"),
        (json.dumps({"question": FREE_Q}, ensure_ascii=False), C.SYNTH_MISSING_FIELD, "answer"),
        (json.dumps({"question": FREE_Q, "answer": ""}, ensure_ascii=False), C.SYNTH_MISSING_FIELD, "answer"),
        ('{"question": "本症例で', C.SYNTH_TRUNCATED, "JSON object not closed"),
    ],
)
def test_free_rejections(raw, reason, detail):
    result = parse_free(raw)
    assert isinstance(result, Rejection) and result.reason == reason and result.detail.startswith(detail)
    assert_no_leak(raw, result)


def test_text_after_a_header_keeps_its_width():
    raw = "問題：ＰＳＬ減量中に胆管炎が再増悪した。追加された薬剤はどれか。\n" + "\n".join(
        exam_text().split("\n")[1:]
    )
    assert parse_exam(raw).question == "ＰＳＬ減量中に胆管炎が再増悪した。追加された薬剤はどれか。"


@pytest.mark.parametrize(
    "raw",
    [
        "問題" + " " * 20000 + "x",
        "正解は c" + " " * 20000 + "x",
        "**a.** " + " " * 20000 + "x",
        "Q" + "\t" * 20000 + "x",
        "[ans]" * 20000,
        '{"answer": "(' + " " * 20000 + 'x"}',
        "```" + " " * 20000 + "x",
    ],
)
def test_degenerate_outputs_parse_in_linear_time(raw):
    """A model stuck in a loop emits pages of spaces or tags; no pattern may backtrack on them
    (one header pattern once took 45 s on 3,000 spaces)."""
    import time

    start = time.perf_counter()
    assert isinstance(parse_exam(raw), Rejection) and isinstance(parse_free(raw), (Rejection, FreeQA))
    assert time.perf_counter() - start < 1.0
