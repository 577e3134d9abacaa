"""Parsed QA items (:class:`ExamItem`, :class:`FreeQA`, :class:`EhrItem`) and :class:`Rejection`,
with what both output shapes of :mod:`jmedcorpus.synth.parsing` (JSON and text) share: option
labels, and :func:`build_exam`, which checks the fields of an exam item (5 distinct, non-empty
options) and reads its answer as one letter ``a``-``e``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from jmedcorpus.constants import (
    SYNTH_ANSWER_NOT_IN_OPTIONS,
    SYNTH_DUPLICATE_OPTIONS,
    SYNTH_MISSING_FIELD,
    SYNTH_MULTIPLE_ANSWERS,
    SYNTH_WRONG_OPTION_COUNT,
)

N_OPTIONS = 5
LETTERS = "abcde"


@dataclass
class ExamItem:
    """A 5-option single-answer question; ``answer`` is one of ``a``-``e``, ``options`` are the
    option texts without their labels."""

    question: str
    options: list[str]
    answer: str
    explanation: str

    @property
    def answer_text(self) -> str:
        """The text of the correct option."""
        return self.options[LETTERS.index(self.answer)]

    def question_with_options(self) -> str:
        """The question and its options as the exam prints them (``a. …`` lines): the training
        item's user message, and what the model checks show a model."""
        options = "\n".join(f"{letter}. {text}" for letter, text in zip(LETTERS, self.options))
        return f"{self.question}\n{options}"


@dataclass
class FreeQA:
    """A free-form question and its answer."""

    question: str
    answer: str


@dataclass
class EhrItem:
    """A local lab-test name normalized to an entry of the standard-name master: its ``code`` and
    ``standard_name`` as the master writes them."""

    local_name: str
    code: str
    standard_name: str


@dataclass
class Rejection:
    """Why an output was rejected: a ``synth_*`` reason and a detail of counts, letters and field
    names only (never generated or document text)."""

    reason: str
    detail: str = ""


def nfkc(text: str) -> str:
    """NFKC: full-width letters, digits and brackets to ASCII (``ａ．`` → ``a.``)."""
    return unicodedata.normalize("NFKC", text)


def label_letter(label: str) -> str:
    """An option label as one lower-case letter, whatever its width or case.

    >>> [label_letter(x) for x in ("a", "C", "ｃ", "Ｄ", "(e)", "（ｂ）", "a.")]
    ['a', 'c', 'c', 'd', 'e', 'b', 'a']
    """
    return nfkc(label).strip().strip("()[].:、").strip().lower()


def option_key(text: str) -> str:
    """What two options must share to count as the same: NFKC, case and spaces folded, a final
    full stop ignored.

    >>> option_key("ＰＳＬ の増量。") == option_key("psl の増量")
    True
    """
    return re.sub(r"\s+", "", nfkc(text)).lower().rstrip("。.")


def match_letter(m: re.Match) -> str:
    return label_letter(m.group("p") or m.group("s") or m.group("w"))


# --- the checks shared by both shapes ----------------------------------------------------------
def build_exam(question: str, options: list[str], answer: str, explanation: str) -> ExamItem | Rejection:
    if len(options) != N_OPTIONS:
        return Rejection(SYNTH_WRONG_OPTION_COUNT, f"{len(options)} options, expected {N_OPTIONS}")
    empty = [LETTERS[i] for i, o in enumerate(options) if not o.strip()]
    if empty:
        return Rejection(SYNTH_MISSING_FIELD, f"option {','.join(empty)} empty")
    keys = [option_key(o) for o in options]
    for i, key in enumerate(keys):
        if key in keys[:i]:
            return Rejection(SYNTH_DUPLICATE_OPTIONS, f"{LETTERS[keys.index(key)]}={LETTERS[i]}")
    letter = answer_letter(answer, keys)
    if isinstance(letter, Rejection):
        return letter
    return ExamItem(question.strip(), [o.strip() for o in options], letter, explanation.strip())


_LETTER_ANSWER = re.compile(r"[(\[（【]?\s*([a-z])(?:\s*[)\]）】])?(?:\s*[.:、])?")
_SEPARATOR = r"\s*(?:[,、/・]|and|と|および|及び)\s*|\s+"
_MULTI_ANSWER = re.compile(rf"[(（]?[a-z][)）]?(?:(?:{_SEPARATOR})[(（]?[a-z][)）]?)+")
_LABELLED_ANSWER = re.compile(r"[(（]?([a-h])(?:[)）.:、。]|\s)\s*\S")


def answer_letter(answer: str, option_keys: list[str]) -> str | Rejection:
    """The answer as a letter ``a``-``e``: from a letter in any spelling or from an option's text.

    >>> keys = [option_key(o) for o in ("胆管炎", "肝炎", "膵炎", "胆嚢炎", "PSL")]
    >>> [answer_letter(a, keys) for a in ("c", "(C)", "ｃ", "Ｄ．", "eです", "胆嚢炎", "b. 肝炎", "ＰＳＬ")]
    ['c', 'c', 'c', 'd', 'e', 'd', 'b', 'e']
    >>> answer_letter("f", keys)
    Rejection(reason='synth_answer_not_in_options', detail='letter f outside a-e')
    >>> answer_letter("b, d", keys)
    Rejection(reason='synth_multiple_answers', detail='2 answers')
    """
    s = nfkc(answer).strip().strip("\"'「」『』`*").strip()
    s = re.sub(r"(?:です|である)?[。.]?$", "", s).strip() or s
    low = s.lower()
    m = _LETTER_ANSWER.fullmatch(low)
    if m:
        letter = m.group(1)
        if letter in LETTERS:
            return letter
        return Rejection(SYNTH_ANSWER_NOT_IN_OPTIONS, f"letter {letter} outside a-e")
    key = option_key(s)
    if key in option_keys:
        return LETTERS[option_keys.index(key)]
    if len(low) <= 40 and _MULTI_ANSWER.fullmatch(low):  # short: "and" is letters too (backtracking)
        return Rejection(SYNTH_MULTIPLE_ANSWERS, f"{len(set(re.findall(r'[a-z]', low)))} answers")
    m = _LABELLED_ANSWER.match(low)
    if m:
        letter = m.group(1)
        if letter in LETTERS:
            return letter
        return Rejection(SYNTH_ANSWER_NOT_IN_OPTIONS, f"letter {letter} outside a-e")
    if low.isdigit():
        return Rejection(SYNTH_ANSWER_NOT_IN_OPTIONS, "numeric, ambiguous")
    return Rejection(SYNTH_ANSWER_NOT_IN_OPTIONS, "text matches no option")
