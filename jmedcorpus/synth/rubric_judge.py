"""The judge score: a model (the generation model, or another one) scores each accepted item
1-5 against a versioned rubric, and items under a floor are rejected.

The rubric (``templates/checks/judge_v1.yaml``) asks for four criteria and an overall score,
each an integer 1-5, as one JSON object: ``medically_correct``, ``answerable`` (from the
passage), ``single_best_answer``, ``exam_style`` (Japanese licensing-exam form) and ``score``,
with a short ``comment``. The judge sees the passage and the whole item, key and explanation
included (it grades the key; the answer check of :mod:`jmedcorpus.synth.answer_check` is the
one that hides it). Only ``score`` decides; the criteria and comment are stored for audits.

Reading the verdict is lenient about form and strict about content: the JSON object may be
fenced or surrounded by chatter and its keys may be Japanese (``総合点``); a score may be written
``4``, ``4.0``, ``"4"``, ``"4点"`` or ``"4/5"``. Without a JSON object, a text line ``score: 4`` /
``総合点：４`` is read. Anything else (no score, a score outside 1-5, 3.5, an output cut at
``max_tokens``) is ``synth_judge_unparseable``: a rejection of its own, so a judge that does not
follow the format shows up in the counts instead of silently passing or failing items. A score
under ``min_score`` (default 3: "usable only after a fix" and worse) is
``synth_judge_below_floor``.

Rows record ``judge_score``, ``judge_rubric`` and ``judge`` (JSON: the judge's model, criteria
and comment); a rejected row also keeps the judge's raw output (``judge_raw``). Nothing of it is
logged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from jmedcorpus.constants import SYNTH_JUDGE_BELOW_FLOOR, SYNTH_JUDGE_UNPARSEABLE
from jmedcorpus.synth.engines.base import Completion, Request, SamplingSettings, request_seed
from jmedcorpus.synth.items import ExamItem, FreeQA, nfkc
from jmedcorpus.synth.parsing import json_object
from jmedcorpus.synth.prompts import load_check_template

DEFAULT_SAMPLING = SamplingSettings(temperature=0.0, top_p=1.0, max_tokens=512, seed=0)
CRITERIA = ("medically_correct", "answerable", "single_best_answer", "exam_style")
_SCORE_KEYS = ("score", "overall", "overall_score", "総合点", "総合評価", "総合", "点数", "評価")
_SCORE_VALUE = re.compile(r"\s*([0-9]+(?:\.0+)?)\s*(?:点|/\s*5|点満点中)?\s*[。.]?\s*")
_SCORE_LINE = re.compile(
    r"^[\s#*【\[]*(?:score|overall|総合点|総合評価|総合|点数)[\s*】\]]*[:=：]?\s*([0-9]+(?:\.0+)?)\s*(?:点|/\s*5)?",
    re.IGNORECASE | re.MULTILINE,
)
MAX_COMMENT_CHARS = 500


@dataclass
class JudgeVerdict:
    """The judge's verdict on one item: ``score`` (None when unreadable), the criteria that could
    be read, the comment, the reasons (``[]``: passed) and a detail of numbers only."""

    score: int | None
    reasons: list[str]
    detail: str = ""
    criteria: dict = field(default_factory=dict)
    comment: str | None = None
    raw: str | None = None
    errors: int = 0  # judge requests the engine did not serve


def score_value(value) -> int | None:
    """A 1-5 integer from a JSON value, or None.

    >>> [score_value(v) for v in (4, 4.0, "4", "４点", "4/5", " 5 ", 3.5, 0, 6, True, "良い", None)]
    [4, 4, 4, 4, 4, 5, None, None, None, None, None, None]
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        m = _SCORE_VALUE.fullmatch(nfkc(value))
        if m is None:
            return None
        number = float(m.group(1))
    else:
        return None
    return int(number) if number.is_integer() and 1 <= number <= 5 else None


def read_verdict(raw: str | None) -> tuple[int | None, dict, str | None]:
    """``(score, criteria, comment)`` from a judge's output.

    >>> read_verdict('```json\\n{"answerable": 4, "総合点": "4点", "comment": "良い"}\\n```')
    (4, {'answerable': 4}, '良い')
    >>> read_verdict("講評: 選択肢は妥当。\\n総合点：５")[0], read_verdict('{"score": 3.5}')[0], read_verdict("")[0]
    (5, None, None)
    """
    if not raw or not raw.strip():
        return None, {}, None
    obj = json_object(raw)
    if obj is None:
        m = _SCORE_LINE.search(nfkc(raw))
        return (score_value(m.group(1)) if m else None), {}, None
    by_key = {nfkc(str(k)).strip().lower(): v for k, v in obj.items()}
    score = next((score_value(by_key[k]) for k in _SCORE_KEYS if k in by_key), None)
    criteria = {c: v for c in CRITERIA if (v := score_value(by_key.get(c))) is not None}
    comment = by_key.get("comment", by_key.get("コメント", by_key.get("reason")))
    comment = comment.strip()[:MAX_COMMENT_CHARS] if isinstance(comment, str) and comment.strip() else None
    return score, criteria, comment


def item_for_judge(item: ExamItem | FreeQA) -> str:
    """The item as the judge reads it: the question (with options), the key and its
    explanation, or a free question and its answer.

    >>> print(item_for_judge(FreeQA("何が追加されたか。", "UDCAが追加された。")))
    質問: 何が追加されたか。
    解答: UDCAが追加された。
    """
    if isinstance(item, ExamItem):
        return f"{item.question_with_options()}\n正解: {item.answer}\n解説: {item.explanation}"
    return f"質問: {item.question}\n解答: {item.answer}"


class RubricJudge:
    """Score items 1-5 with a model against a versioned rubric; reject under ``min_score``.

    Args:
        rubric: the rubric's id (default ``judge_v1``, ``templates/checks/judge_v1.yaml``).
        min_score: the floor (default 3, in 1-5; 1 keeps every readable score).
        sampling: the judge's sampling (default greedy, 512 tokens: a verdict is ~80 tokens).
    """

    def __init__(
        self, *, rubric: str = "judge_v1", min_score: int = 3, sampling: SamplingSettings = DEFAULT_SAMPLING
    ) -> None:
        if not 1 <= min_score <= 5:
            raise ValueError(f"min_score must be in 1-5, got {min_score}")
        self.rubric, self.min_score, self.sampling = rubric, min_score, sampling
        self.template = load_check_template(rubric, "judge")

    def request(self, key: str, passage: str, item: ExamItem | FreeQA) -> Request:
        """The judge request for the item of passage ``key`` (key ``<key>#judge``)."""
        rk = f"{key}#judge"
        messages = tuple(self.template.messages(passage, item=item_for_judge(item)))
        return Request(
            rk, messages, self.sampling, request_seed(self.sampling.seed, rk), self.template.schema
        )

    def decide(self, completion: Completion) -> JudgeVerdict:
        if completion.error is not None:
            return JudgeVerdict(None, [completion.error], f"judge: {completion.detail}", errors=1)
        score, criteria, comment = read_verdict(completion.text)
        raw = completion.text
        if score is None:
            cut = " (cut at max_tokens)" if completion.finish_reason == "length" else ""
            return JudgeVerdict(
                None, [SYNTH_JUDGE_UNPARSEABLE], f"judge: no 1-5 score{cut}", criteria, raw=raw
            )
        if score < self.min_score:
            detail = f"judge score {score} < {self.min_score}"
            return JudgeVerdict(score, [SYNTH_JUDGE_BELOW_FLOOR], detail, criteria, comment, raw)
        return JudgeVerdict(score, [], "", criteria, comment, raw)
