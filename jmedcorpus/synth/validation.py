"""Validate parsed QA items before they are kept: length, language, grounding in the passage,
benchmark contamination and near-duplicates.

Each check is a small class whose thresholds are keyword arguments with the defaults below (those
of grounding, contamination and near-duplicates in their own modules); :func:`validate_exam` and
:func:`validate_free` run them all and return every reason found, in the fixed order of
:data:`REASON_ORDER` (an empty list: the item is accepted).

===================  ==========================================================================
check                rule (defaults)
===================  ==========================================================================
length               characters of the stripped text: question 10-1,200 (IgakuQA 2018-2022:
                     9-1,192, median 142; the prompts' schema asks for ≥ 10), each option ≤ 80
                     (IgakuQA max 70, 99th percentile 33), explanation 20-2,000, free answer
                     10-1,000 (the schema's ``minLength: 10``)
language             fastText lid.176's top language is ``ja``, with score ≥ 0.5 or kana ≥ 5 %
                     of the non-space characters: the build's language step with its kana
                     rescue (``von Gierke病はどれか。``: ja 0.53). The rescue needs ``ja`` on
                     top: ``The patient received ニボルマブ for laryngeal cancer.`` is 12 %
                     kana but English (en 0.87). Chinese, where a Qwen-type model drifts, has
                     no kana.
                     Options are too short for fastText (``胆管炎`` → ja 0.77, five kanji-only
                     options → zh 0.76): they fail when 3 or more of the 5 are Latin prose, i.e.
                     contain no kana/kanji but a word with 3+ lower-case letters
                     (``Ursodeoxycholic acid``); abbreviations, values and symbols (``CT``,
                     ``γ-GTP``, ``5 mg``) are neutral. Five bacterial binomials are rejected too.
grounding            see :mod:`jmedcorpus.synth.grounding`
contamination        see :mod:`jmedcorpus.synth.contamination`
near-duplicate       see :mod:`jmedcorpus.synth.near_duplicates`
===================  ==========================================================================
"""

from __future__ import annotations

import re

from jmedcorpus.constants import (
    SYNTH_ANSWER_NOT_JAPANESE,
    SYNTH_ANSWER_TOO_LONG,
    SYNTH_ANSWER_TOO_SHORT,
    SYNTH_CONTAMINATED,
    SYNTH_DUPLICATE,
    SYNTH_EXPLANATION_NOT_JAPANESE,
    SYNTH_EXPLANATION_TOO_LONG,
    SYNTH_EXPLANATION_TOO_SHORT,
    SYNTH_NOT_GROUNDED,
    SYNTH_OPTION_TOO_LONG,
    SYNTH_OPTIONS_NOT_JAPANESE,
    SYNTH_QUESTION_NOT_JAPANESE,
    SYNTH_QUESTION_TOO_LONG,
    SYNTH_QUESTION_TOO_SHORT,
)
from jmedcorpus.filters.validation import check_fraction
from jmedcorpus.synth.contamination import ContaminationIndex
from jmedcorpus.synth.grounding import GroundingCheck
from jmedcorpus.synth.items import ExamItem, FreeQA
from jmedcorpus.synth.near_duplicates import NearDuplicateIndex
from jmedcorpus.text.charclass import JAPANESE, kana_ratio

# The order in which validate_exam / validate_free report reasons.
REASON_ORDER = (
    SYNTH_QUESTION_TOO_SHORT,
    SYNTH_QUESTION_TOO_LONG,
    SYNTH_OPTION_TOO_LONG,
    SYNTH_ANSWER_TOO_SHORT,
    SYNTH_ANSWER_TOO_LONG,
    SYNTH_EXPLANATION_TOO_SHORT,
    SYNTH_EXPLANATION_TOO_LONG,
    SYNTH_QUESTION_NOT_JAPANESE,
    SYNTH_OPTIONS_NOT_JAPANESE,
    SYNTH_ANSWER_NOT_JAPANESE,
    SYNTH_EXPLANATION_NOT_JAPANESE,
    SYNTH_NOT_GROUNDED,
    SYNTH_CONTAMINATED,
    SYNTH_DUPLICATE,
)


# --- length ------------------------------------------------------------------------------------
class LengthCheck:
    """Too short or too long fields, in characters of the stripped text (defaults: see the module
    docstring). Reasons ``synth_{question,answer,explanation}_too_{short,long}`` and
    ``synth_option_too_long`` (an empty option is already a parse rejection)."""

    def __init__(
        self,
        *,
        min_question_chars: int = 10,
        max_question_chars: int = 1200,
        max_option_chars: int = 80,
        min_explanation_chars: int = 20,
        max_explanation_chars: int = 2000,
        min_answer_chars: int = 10,
        max_answer_chars: int = 1000,
    ) -> None:
        for low, high, name in (
            (min_question_chars, max_question_chars, "question"),
            (min_explanation_chars, max_explanation_chars, "explanation"),
            (min_answer_chars, max_answer_chars, "answer"),
        ):
            if not 0 <= low <= high:
                raise ValueError(f"{name} length limits must satisfy 0 <= min <= max, got {low}, {high}")
        if max_option_chars < 1:
            raise ValueError(f"max_option_chars must be >= 1, got {max_option_chars}")
        self.question = (min_question_chars, max_question_chars)
        self.explanation = (min_explanation_chars, max_explanation_chars)
        self.answer = (min_answer_chars, max_answer_chars)
        self.max_option_chars = max_option_chars

    @staticmethod
    def _check(text: str, limits: tuple[int, int], short: str, long: str) -> list[str]:
        n = len(text.strip())
        return [short] if n < limits[0] else [long] if n > limits[1] else []

    def exam(self, item: ExamItem) -> list[str]:
        """Length reasons of an exam item.

        >>> LengthCheck().exam(ExamItem("短い", ["a", "b", "c", "d", "e"], "a", "本文の記載から正解はaである。"))
        ['synth_question_too_short', 'synth_explanation_too_short']
        """
        reasons = self._check(item.question, self.question, SYNTH_QUESTION_TOO_SHORT, SYNTH_QUESTION_TOO_LONG)
        if any(len(o.strip()) > self.max_option_chars for o in item.options):
            reasons.append(SYNTH_OPTION_TOO_LONG)
        reasons += self._check(
            item.explanation, self.explanation, SYNTH_EXPLANATION_TOO_SHORT, SYNTH_EXPLANATION_TOO_LONG
        )
        return reasons

    def free(self, qa: FreeQA) -> list[str]:
        """Length reasons of a free QA pair."""
        reasons = self._check(qa.question, self.question, SYNTH_QUESTION_TOO_SHORT, SYNTH_QUESTION_TOO_LONG)
        return reasons + self._check(qa.answer, self.answer, SYNTH_ANSWER_TOO_SHORT, SYNTH_ANSWER_TOO_LONG)


# --- language ----------------------------------------------------------------------------------
_LATIN_WORD = re.compile(r"[A-Za-z]*[a-z]{3,}")  # "acid", "Prednisolone"; not "CT", "mg", "PSL"


def is_japanese(text: str, min_score: float = 0.5, min_kana_ratio: float = 0.05) -> bool:
    """fastText lid.176's most likely language is ``ja``, with at least ``min_score`` or with
    kana making up at least ``min_kana_ratio`` of the non-space characters (the build's
    ``language`` step and its ``kana_rescue_ratio``). Japanese text with kana is ``ja`` on top
    even when Latin terms lower its score; an English sentence holding a katakana drug name is
    not rescued.

    >>> is_japanese("本症例で胆管炎の再増悪時に追加された薬剤はどれか。")
    True
    >>> is_japanese("Which drug was added when cholangitis recurred?")
    False
    """
    from jmedcorpus.text.langid import predict

    if not text.strip():
        return False
    lang, score = predict(text)
    return lang == "ja" and (score >= min_score or kana_ratio(text) >= min_kana_ratio)


def is_latin_option(option: str) -> bool:
    """An option in Latin prose: no kana or kanji, and a word of 3+ lower-case letters.

    >>> [is_latin_option(o) for o in ("Ursodeoxycholic acid", "UDCA", "γ-GTP 426 U/L", "Gaucher病")]
    [True, False, False, False]
    """
    return not JAPANESE.search(option) and bool(_LATIN_WORD.search(option))


class LanguageCheck:
    """Japanese text and options (rules in the module docstring).

    Args:
        min_score: minimum fastText probability of ``ja`` (default 0.5, as the build).
        min_kana_ratio: kana share that makes a text Japanese whatever fastText says (default
            0.05, the build's ``kana_rescue_ratio``).
        max_latin_options: options in Latin prose tolerated per item (default 2: exams print a
            bacterium or an eponym in Latin; 3 of 5 means the model switched language).
    """

    def __init__(self, *, min_score: float = 0.5, min_kana_ratio: float = 0.05, max_latin_options: int = 2):
        check_fraction("min_score", min_score)
        check_fraction("min_kana_ratio", min_kana_ratio)
        if max_latin_options < 0:
            raise ValueError(f"max_latin_options must be >= 0, got {max_latin_options}")
        self.min_score, self.min_kana_ratio = min_score, min_kana_ratio
        self.max_latin_options = max_latin_options

    def text(self, text: str) -> bool:
        return is_japanese(text, self.min_score, self.min_kana_ratio)

    def options(self, options: list[str]) -> bool:
        return sum(map(is_latin_option, options)) <= self.max_latin_options


# --- the whole validation ----------------------------------------------------------------------
def exam_text(item: ExamItem) -> str:
    """Question and options, one per line (what near-duplicates and contamination compare)."""
    return "\n".join([item.question, *item.options])


def free_text(qa: FreeQA) -> str:
    """Question and answer, one per line (what near-duplicates compare)."""
    return f"{qa.question}\n{qa.answer}"


def _finish(reasons, texts, dedup_text, dedup, contamination) -> list[str]:
    if contamination is not None and any(contamination.contaminated(t) for t in texts):
        reasons.append(SYNTH_CONTAMINATED)
    if dedup is not None:
        if dedup.is_duplicate(dedup_text):
            reasons.append(SYNTH_DUPLICATE)
        elif not reasons:
            dedup.add(dedup_text)
    return reasons


def validate_exam(
    item: ExamItem,
    passage_text: str,
    *,
    dedup: NearDuplicateIndex | None,
    contamination: ContaminationIndex | None,
    language: LanguageCheck | None = None,
    grounding: GroundingCheck | None = None,
    lengths: LengthCheck | None = None,
) -> list[str]:
    """Every reason to reject an exam item, in :data:`REASON_ORDER`; ``[]`` accepts it, and only
    then is it added to ``dedup``. ``dedup``/``contamination`` None skip those checks. Checks
    are independent: an English explanation is usually also not grounded, and both are said.

    Contamination looks at the question alone and at question + options (a copied stem with
    new options is caught too).
    """
    language = language or LanguageCheck()
    grounding = grounding or GroundingCheck()
    reasons = (lengths or LengthCheck()).exam(item)
    if not language.text(item.question):
        reasons.append(SYNTH_QUESTION_NOT_JAPANESE)
    if not language.options(item.options):
        reasons.append(SYNTH_OPTIONS_NOT_JAPANESE)
    if not language.text(item.explanation):
        reasons.append(SYNTH_EXPLANATION_NOT_JAPANESE)
    if not grounding.exam(item, passage_text):
        reasons.append(SYNTH_NOT_GROUNDED)
    text = exam_text(item)
    return _finish(reasons, (item.question, text), text, dedup, contamination)


def validate_free(
    qa: FreeQA,
    passage_text: str,
    *,
    dedup: NearDuplicateIndex | None,
    contamination: ContaminationIndex | None,
    language: LanguageCheck | None = None,
    grounding: GroundingCheck | None = None,
    lengths: LengthCheck | None = None,
) -> list[str]:
    """Every reason to reject a free QA pair, in :data:`REASON_ORDER` (see :func:`validate_exam`).
    Contamination looks at the question and the answer separately."""
    language = language or LanguageCheck()
    grounding = grounding or GroundingCheck()
    reasons = (lengths or LengthCheck()).free(qa)
    if not language.text(qa.question):
        reasons.append(SYNTH_QUESTION_NOT_JAPANESE)
    if not language.text(qa.answer):
        reasons.append(SYNTH_ANSWER_NOT_JAPANESE)
    if not grounding.free(qa, passage_text):
        reasons.append(SYNTH_NOT_GROUNDED)
    return _finish(reasons, (qa.question, qa.answer), free_text(qa), dedup, contamination)
