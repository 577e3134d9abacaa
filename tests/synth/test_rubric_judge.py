"""The judge score's logic with scripted verdicts: reading a verdict robustly, the floor, an
unreadable judge as a reason of its own, failed requests, the request, and what the model
checks of a chunk record (one item through both checks, the tallies for the manifest)."""

from __future__ import annotations

import json

import pytest
from validation_data import UDCA_ITEM

from jmedcorpus.constants import (
    SYNTH_ANSWER_MISMATCH,
    SYNTH_ENGINE_ERROR,
    SYNTH_JUDGE_BELOW_FLOOR,
    SYNTH_JUDGE_UNPARSEABLE,
)
from jmedcorpus.synth.answer_check import AnswerCheck
from jmedcorpus.synth.engines.base import Completion
from jmedcorpus.synth.items import FreeQA
from jmedcorpus.synth.model_checks import ModelChecks, summarize, tally
from jmedcorpus.synth.passages import Passage
from jmedcorpus.synth.rubric_judge import RubricJudge, read_verdict

ITEM = UDCA_ITEM
PASSAGE = Passage(
    "medtxt-cr-0002", 0, "胆管炎の再増悪を認めたため，ＵＤＣＡ６００ｍｇ／日を追加した．", 0, 30, 20, 0.3
)
FULL = (
    '{"medically_correct": 5, "answerable": 4, "single_best_answer": 5, "exam_style": 4, '
    '"score": 4, "comment": "本文から解答できる。"}'
)


@pytest.mark.parametrize(
    ("raw", "score"),
    [
        (FULL, 4),
        (f"評価します。\n```json\n{FULL}\n```\n以上です。", 4),  # fenced, chatter around it
        ('{"score": "5点",}', 5),  # a trailing comma, a score as text
        ('{"総合点": "３/5"}', 3),  # Japanese key, full-width digit, "/5"
        ('{"Score": 2.0}', 2),
        ("講評: 選択肢は妥当。\n総合点：４", 4),  # no JSON: a score line
        ("**score**: 1", 1),
        ('{"score": 3.5}', None),  # not an integer
        ('{"score": 0}', None),
        ('{"score": 7}', None),
        ('{"answerable": 4, "comment": "良い"}', None),  # criteria without the overall score
        ('{"score": 4', None),  # cut inside the object
        ("よい問題です。", None),
        ("", None),
    ],
)
def test_verdicts_are_read_leniently_in_form_strictly_in_content(raw, score):
    assert read_verdict(raw)[0] == score


def test_criteria_and_comment_are_kept():
    score, criteria, comment = read_verdict(FULL)
    assert criteria == {"medically_correct": 5, "answerable": 4, "single_best_answer": 5, "exam_style": 4}
    assert (score, comment) == (4, "本文から解答できる。")


@pytest.mark.parametrize(
    ("raw", "finish", "reasons", "detail"),
    [
        ('{"score": 3}', "stop", [], ""),  # at the floor: kept
        ('{"score": 2}', "stop", [SYNTH_JUDGE_BELOW_FLOOR], "judge score 2 < 3"),
        ("よい問題です。", "stop", [SYNTH_JUDGE_UNPARSEABLE], "judge: no 1-5 score"),
        (
            '{"score": 5, "comment": "本文から',
            "length",
            [SYNTH_JUDGE_UNPARSEABLE],
            "judge: no 1-5 score (cut at max_tokens)",
        ),
    ],
)
def test_floor_and_unparseable(raw, finish, reasons, detail):
    v = RubricJudge(min_score=3).decide(Completion("p#0#judge", raw, finish))
    assert (v.reasons, v.detail, v.raw) == (reasons, detail, raw)


def test_a_failed_judge_request_is_a_rejection_with_its_engine_reason():
    v = RubricJudge().decide(Completion("p#0#judge", None, error=SYNTH_ENGINE_ERROR, detail="timeout"))
    assert (v.reasons, v.detail, v.errors, v.score) == ([SYNTH_ENGINE_ERROR], "judge: timeout", 1, None)


def test_the_judge_sees_passage_item_key_and_rubric():
    judge = RubricJudge()
    r = judge.request("medtxt-cr-0002#0", PASSAGE.text, ITEM)
    system, user = r.messages
    assert r.key == "medtxt-cr-0002#0#judge" and r.sampling.temperature == 0.0
    assert "medically_correct" in system["content"] and "1〜5" in system["content"]
    assert PASSAGE.text in user["content"] and "e. セフメタゾール" in user["content"]
    assert "正解: a" in user["content"] and ITEM.explanation in user["content"]
    free = judge.request("d#1", "本文", FreeQA("何が追加されたか。", "UDCAが追加された。")).messages[-1][
        "content"
    ]
    assert "質問: 何が追加されたか。\n解答: UDCAが追加された。" in free
    with pytest.raises(ValueError, match="min_score"):
        RubricJudge(min_score=6)


def test_model_checks_of_one_item_record_every_reason_and_the_verdicts():
    checks = ModelChecks(answer_check=AnswerCheck(k=3), judge=RubricJudge(min_score=3), judge_model="judge-m")
    answer_requests, judge_requests = checks.requests([(PASSAGE, ITEM)])
    assert len(answer_requests) == 3 and [r.key for r in judge_requests] == ["medtxt-cr-0002#0#judge"]
    got = {r.key: Completion(r.key, '{"answer": "b"}', "stop") for r in answer_requests}
    got["medtxt-cr-0002#0#judge"] = Completion("x", '{"score": 2, "comment": "正解が誤り"}', "stop")
    (result,) = checks.decide([(PASSAGE, ITEM)], got).values()
    assert result.reasons == [SYNTH_ANSWER_MISMATCH, SYNTH_JUDGE_BELOW_FLOOR]  # both checks say theirs
    assert result.detail == "0 of 3 answers give the key; judge score 2 < 3"
    f = result.fields
    assert f["answer_check_answers"] == ["b", "b", "b"] and f["answer_check_agreement"] == 0.0
    assert (f["judge_score"], f["judge_rubric"]) == (2, "judge_v1") and "正解が誤り" in f["judge_raw"]
    assert json.loads(f["judge"]) == {"model": "judge-m", "criteria": {}, "comment": "正解が誤り"}
    t = tally([result])
    assert t == {"items": 1, "agreement": {"0.0": 1}, "judge_scores": {"2": 1}, "errors": 0}
    s = summarize([t, {"items": 1, "agreement": {"1.0": 1}, "judge_scores": {"unparseable": 1}, "errors": 0}])
    assert s["score_distribution"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 0, "unparseable": 1}
    assert (s["mean_score"], s["mean_agreement"], s["items_checked"]) == (2.0, 0.5, 2)


def test_a_passed_item_has_no_detail_and_only_the_checks_that_ran():
    checks = ModelChecks(judge=RubricJudge(), judge_model="m")
    assert checks.requests([(PASSAGE, ITEM)])[0] == []  # no answer check
    got = {"medtxt-cr-0002#0#judge": Completion("x", FULL, "stop")}
    (result,) = checks.decide([(PASSAGE, ITEM)], got).values()
    assert (result.reasons, result.detail, result.fields["judge_score"]) == ([], "", 4)
    assert "answer_check_agreement" not in result.fields
