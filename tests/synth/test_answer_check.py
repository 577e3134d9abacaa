"""The answer check's logic with scripted answers: reading an answer, the majority rule, ties,
unreadable answers, failed requests, and the requests it sends (no key in them)."""

from __future__ import annotations

import pytest
from validation_data import UDCA_ITEM

from jmedcorpus.constants import SYNTH_ANSWER_MISMATCH, SYNTH_ENGINE_ERROR, SYNTH_PROMPT_TOO_LONG
from jmedcorpus.synth.answer_check import AnswerCheck, read_answer
from jmedcorpus.synth.engines.base import Completion

ITEM = UDCA_ITEM
PASSAGE = "胆管炎の再増悪を認めたため，ＵＤＣＡ６００ｍｇ／日を追加した．"


@pytest.mark.parametrize(
    ("raw", "letter"),
    [
        ('{"answer": "a"}', "a"),
        ('```json\n{"正解": "Ｂ"}\n```', "b"),  # fenced, Japanese key, full width
        ('考えます。\n{"answer": "(c)"}', "c"),  # chatter before the object
        ("[ans]d[/ans]", "d"),
        ("本文より判断すると、\n正解: e", "e"),
        ("答えはａです。", "a"),
        ("b", "b"),
        ("プレドニゾロン", "b"),  # an option's text
        ("ウルソデオキシコール酸（UDCA）が正しいと考えられますが、迷います。", None),  # prose
        ('{"answer": "b, d"}', None),  # two answers: no single letter
        ('{"answer": "f"}', None),
        ('{"answer": "a"', None),  # cut: no object, and too long to be the answer itself
        ("", None),
        (None, None),
    ],
)
def test_answers_are_read_as_one_letter(raw, letter):
    assert read_answer(raw, ITEM.options) == letter


def completions(*texts) -> list[Completion]:
    return [Completion(f"p#0#answer{j}", t, "stop") for j, t in enumerate(texts)]


def answers(*letters) -> list[Completion]:
    return completions(*(f'{{"answer": "{x}"}}' if x else "わかりません" for x in letters))


@pytest.mark.parametrize(
    ("k", "min_agreement", "given", "reasons", "agreement"),
    [
        (3, 0.5, ("a", "a", "a"), [], 1.0),
        (3, 0.5, ("a", "a", "c"), [], 0.6667),  # the majority agrees
        (3, 0.5, ("a", "b", "c"), [SYNTH_ANSWER_MISMATCH], 0.3333),  # the key is a plurality, not a majority
        (3, 0.5, ("b", "b", "a"), [SYNTH_ANSWER_MISMATCH], 0.3333),
        (3, 0.5, ("a", None, None), [SYNTH_ANSWER_MISMATCH], 0.3333),  # unreadable answers count against
        (4, 0.5, ("a", "a", "b", "b"), [], 0.5),  # a tie: the majority does not disagree
        (4, 0.51, ("a", "a", "b", "b"), [SYNTH_ANSWER_MISMATCH], 0.5),  # unless ties are asked to fail
        (1, 0.5, ("a",), [], 1.0),
        (1, 0.5, ("e",), [SYNTH_ANSWER_MISMATCH], 0.0),
    ],
)
def test_majority_and_ties(k, min_agreement, given, reasons, agreement):
    v = AnswerCheck(k=k, min_agreement=min_agreement).decide(ITEM, answers(*given))
    assert v.reasons == reasons and v.agreement == agreement and v.errors == 0
    assert v.answers == list(given)
    assert str(sum(x == "a" for x in given)) in v.detail and "ウルソ" not in v.detail  # counts, no text


def test_a_failed_request_is_a_rejection_with_its_engine_reason():
    got = answers("a", "a")
    got.append(Completion("p#0#answer2", None, error=SYNTH_ENGINE_ERROR, detail="HTTP 503", attempts=5))
    v = AnswerCheck(k=3).decide(ITEM, got)
    assert (v.reasons, v.agreement, v.errors) == ([SYNTH_ENGINE_ERROR], None, 1)
    assert v.detail == "answer check: 1 of 3 requests failed (HTTP 503)"
    too_long = [Completion("p#0#answer0", None, error=SYNTH_PROMPT_TOO_LONG, detail="9 > 8", attempts=0)]
    assert AnswerCheck(k=1).decide(ITEM, too_long).reasons == [SYNTH_PROMPT_TOO_LONG]


def test_requests_hide_the_key_and_differ_only_by_seed():
    check = AnswerCheck(k=3)
    reqs = check.requests("doc#4", PASSAGE, ITEM)
    assert [r.key for r in reqs] == ["doc#4#answer0", "doc#4#answer1", "doc#4#answer2"]
    assert len({r.seed for r in reqs}) == 3 and all(r.messages == reqs[0].messages for r in reqs)
    user = reqs[0].messages[-1]["content"]
    assert ITEM.question in user and "e. セフメタゾール" in user and PASSAGE in user
    assert ITEM.explanation not in user and "正解: a" not in user  # no key, no explanation
    assert reqs[0].schema["properties"]["answer"]["enum"] == list("abcde")
    assert reqs[0].sampling.temperature == 0.7 and reqs[0].cache_key("m") != reqs[1].cache_key("m")
    alone = AnswerCheck(k=1, with_passage=False).requests("doc#4", PASSAGE, ITEM)[0]
    assert PASSAGE not in alone.messages[-1]["content"] and ITEM.question in alone.messages[-1]["content"]
    # the same item asked again (a re-run) is the same request: the cache answers it
    assert [r.cache_key("m") for r in check.requests("doc#4", PASSAGE, ITEM)] == [
        r.cache_key("m") for r in reqs
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"), [({"k": 0}, "k must be in 1-16"), ({"min_agreement": 0}, "min_agreement")]
)
def test_bad_settings_are_value_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AnswerCheck(**kwargs)
