"""The answer check (self-consistency): asked an accepted exam item without its key, does the
model give the key?

The rules of :mod:`jmedcorpus.synth.validation` check format, language and grounding; none of
them checks that the stated answer is right or that the question can be answered. So an item
that passed them is put to the engine as an exam question (question and options, after the
passage unless ``with_passage`` is false), ``k`` times with different seeds, and each answer is
compared with the key. This is self-consistency (Wang et al., 2023, majority vote over sampled
answers) used as a filter: a key that the model's own majority does not reproduce is more often
a wrong key or an ambiguous question than a hard one.

Each answer is read as one letter: a JSON ``{"answer": "c"}`` (the prompt's format, forced by
guided decoding where the engine has it), else ``[ans]c[/ans]`` or an answer line (``正解: c``),
else the whole output when it is short (``c``, ``(C)``, an option's text). An answer that cannot
be read counts against the key (it does not support it) and is recorded as ``None``.

``agreement = answers equal to the key / k``; the item is rejected with
``synth_answer_mismatch`` when ``agreement < min_agreement`` (default 0.5: the majority of the k
answers disagrees; with k = 3 the key needs 2 votes, at an even k a tie keeps the item; 0.51
rejects ties). Rows record ``answer_check_answers`` (the k letters) and
``answer_check_agreement``. A check request the engine failed makes the item a rejection with
that request's reason (``synth_engine_error``: ``--retry-errors`` redoes it).

Why with the passage by default: the items are generated from, and grounded in, a passage
("本症例で…"), so the passage is what makes them answerable; ``with_passage: false`` asks the
stricter question of whether the item stands on its own, as the training example does.
"""

from __future__ import annotations

from dataclasses import dataclass

from jmedcorpus.constants import SYNTH_ANSWER_MISMATCH
from jmedcorpus.synth.engines.base import Completion, Request, SamplingSettings, request_seed
from jmedcorpus.synth.items import ExamItem, answer_letter, option_key
from jmedcorpus.synth.parsing import json_fields, json_object
from jmedcorpus.synth.parsing_text import answer_values
from jmedcorpus.synth.prompts import load_check_template

DEFAULT_SAMPLING = SamplingSettings(temperature=0.7, top_p=0.95, max_tokens=256, seed=0)
_SHORT_ANSWER = 40  # characters: a whole output this short may be the answer itself ("c", "胆管炎")


@dataclass
class AnswerVerdict:
    """The answer check of one item: ``answers`` (a letter, or None when unreadable, per
    request), ``agreement`` (None when a request failed), the reasons (``[]``: passed) and a
    detail of counts only."""

    answers: list[str | None]
    agreement: float | None
    reasons: list[str]
    detail: str = ""
    errors: int = 0  # check requests the engine did not serve


def read_answer(raw: str | None, options: list[str]) -> str | None:
    """The letter an answer output gives, or None.

    >>> opts = ["胆管炎", "肝炎", "膵炎", "胆嚢炎", "PSL"]
    >>> [read_answer(r, opts) for r in ('{"answer": "C"}', "[ans]b[/ans]", "正解は d です。", "ｅ", "膵炎",
    ...                                 "考えた結果、\\n答え: a", "わかりません", '{"answer": "b, d"}', None)]
    ['c', 'b', 'd', 'e', 'c', 'a', None, None, None]
    """
    if not raw or not raw.strip():
        return None
    keys = [option_key(o) for o in options]
    obj = json_object(raw)
    if obj is not None:
        candidates = [json_fields(obj).get("answer")]
    else:
        candidates = answer_values(raw) or ([raw.strip()] if len(raw.strip()) <= _SHORT_ANSWER else [])
    for value in candidates:
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            letter = answer_letter(str(value), keys)
            if isinstance(letter, str):
                return letter
    return None


class AnswerCheck:
    """Ask the engine to answer each item ``k`` times without the key; reject on disagreement.

    Args:
        k: answers per item (default 3, the smallest odd k with a majority; 1-16).
        min_agreement: share of the k answers that must equal the key (default 0.5, in (0, 1]).
        with_passage: show the passage with the question (default True; see the module docstring).
        sampling: the answers' sampling (default temperature 0.7, top_p 0.95, 256 tokens, seed 0:
            sampled, so the k answers are k draws; at temperature 0 they are one answer k times).
        prompt: the versioned prompt (``templates/checks/answer_check_v1.yaml``).
    """

    def __init__(
        self,
        *,
        k: int = 3,
        min_agreement: float = 0.5,
        with_passage: bool = True,
        sampling: SamplingSettings = DEFAULT_SAMPLING,
        prompt: str = "answer_check_v1",
    ) -> None:
        if not 1 <= k <= 16:
            raise ValueError(f"k must be in 1-16, got {k}")
        if not 0.0 < min_agreement <= 1.0:
            raise ValueError(f"min_agreement must be in (0, 1], got {min_agreement}")
        self.k, self.min_agreement, self.with_passage = k, min_agreement, with_passage
        self.sampling = sampling
        self.template = load_check_template(prompt, "answer_check")

    def requests(self, key: str, passage: str, item: ExamItem) -> list[Request]:
        """The ``k`` requests for the item of passage ``key`` (keys ``<key>#answer<j>``)."""
        user = "user" if self.with_passage else "user_without_passage"
        messages = tuple(self.template.messages(passage, user=user, item=item.question_with_options()))
        keys = [f"{key}#answer{j}" for j in range(self.k)]
        return [
            Request(rk, messages, self.sampling, request_seed(self.sampling.seed, rk), self.template.schema)
            for rk in keys
        ]

    def decide(self, item: ExamItem, completions: list[Completion]) -> AnswerVerdict:
        """The verdict from the item's ``k`` completions (in request order)."""
        failed = [c for c in completions if c.error is not None]
        if failed:
            detail = f"answer check: {len(failed)} of {len(completions)} requests failed ({failed[0].detail})"
            return AnswerVerdict([], None, [failed[0].error], detail, errors=len(failed))
        answers = [read_answer(c.text, item.options) for c in completions]
        agree = sum(a == item.answer for a in answers)
        agreement = agree / len(answers)
        unread = sum(a is None for a in answers)
        detail = f"{agree} of {len(answers)} answers give the key" + (
            f", {unread} unreadable" if unread else ""
        )
        reasons = [SYNTH_ANSWER_MISMATCH] if agreement < self.min_agreement else []
        return AnswerVerdict(answers, round(agreement, 4), reasons, detail)
