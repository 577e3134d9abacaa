"""Read the **text** shape of a model output (see :mod:`jmedcorpus.synth.parsing`): an exam item
line by line (question, the block of labelled options, an explanation section, the answer in
``[ans]…[/ans]`` tags or on an answer line) and a free QA pair by its ``質問:`` / ``回答:``
markers. Headers are matched on the NFKC line; the text after them is kept as the model wrote it.
"""

from __future__ import annotations

import re

from jmedcorpus.constants import (
    SYNTH_MISSING_FIELD,
    SYNTH_MULTIPLE_ANSWERS,
    SYNTH_TRUNCATED,
    SYNTH_UNPARSEABLE,
)
from jmedcorpus.synth.items import (
    ExamItem,
    Rejection,
    build_exam,
    label_letter,
    match_letter,
    nfkc,
)
from jmedcorpus.text.exam import OPTION_LINE

_ANS_TAG = re.compile(r"\[(/?)ans\]", re.IGNORECASE)  # on NFKC text; paired by _tag_spans
# the tags in any width, for removing them from explanation text that is not NFKC-normalized
_ANS_TAG_ANY_WIDTH = re.compile(r"[\[［]\s*[/／]?\s*[aａ][nｎ][sｓ]\s*[\]］]", re.IGNORECASE)


def _header(words: str, *, dot_after_number: bool = False) -> re.Pattern[str]:
    """A section header line (on NFKC text): ``解説: …``, ``【解説】…``, ``**解説**: …``,
    ``### 解説`` alone on its line, or with ``dot_after_number`` also ``問題1. …``. A word
    followed by other text without a colon (``説明として正しいのは…``) is not a header.

    Every run of spaces follows a fixed token, so a failing match on a long line is linear
    (three adjacent optional space runs would backtrack cubically on a line of spaces)."""
    w = rf"(?:{words})[ \t]*(?:\d+[ \t]*)?"
    dot = rf"|(?:{words})[ \t]*\d+[ \t]*\.(?!\d)" if dot_after_number else ""
    return re.compile(
        rf"^[ \t\u3000]*(?:#+[ \t]*)?(?:\*\*[ \t]*)?"
        rf"(?:【[ \t]*{w}】|\[[ \t]*{w}\]|{w}(?:\*\*[ \t]*)?:{dot}|{w}(?:\*\*[ \t]*)?$)"
        rf"(?:\*\*)?[ \t]*:?(?P<rest>.*)$",
        re.IGNORECASE,
    )


_ANSWER_WORDS = "正解|正答|答え|解答|answer"
_ANSWER_LINE = _header(_ANSWER_WORDS)
_ANSWER_SENTENCE = re.compile(  # "正解は c" / "正解はｃである。": a letter only
    rf"^[ \t\u3000]*(?:\*\*)?(?:{_ANSWER_WORDS})(?:\*\*)?[ \t]*は[ \t]*"
    r"(?P<rest>[(]?[a-h][)]?)[ \t]*(?:(?:です|である)[ \t]*)?(?:[。.][ \t]*)?$",
    re.IGNORECASE,
)
_EXPLANATION_HEADER = _header("解説|説明|explanation|rationale")
_QUESTION_HEADER = _header("問題文|問題|設問|問|question|q", dot_after_number=True)
_OPTIONS_HEADER = _header("選択肢|options|choices")
_CHATTER = re.compile(
    r"^(?:はい|承知|了解|以下|かしこまり|sure|here|okay|ok\b|certainly|---+|\*\*\*+)", re.IGNORECASE
)
_MARKDOWN = re.compile(r"\*\*|^#+[ \t]*", re.MULTILINE)

# free QA markers
_FREE_Q = _header("質問|問題|問|question|q")
_FREE_A = _header("回答|解答|答え|答|answer|a")


# --- exam items ------------------------------------------------------------------------------
def exam_from_text(raw: str) -> ExamItem | Rejection:
    """Read question, option block, explanation and answer line by line.

    The option block is the first run of labelled lines (blank lines allowed inside); it ends at
    the first other line, or where the labels start again (an explanation that goes through
    "a: 誤り。b: …" after the options). The explanation is the section after a header
    (``解説:``), else whatever follows the options, less the answer lines.
    """
    answers, truncated = _tagged_answers(raw)
    if truncated:
        return Rejection(SYNTH_TRUNCATED, "answer tag not closed")
    question_lines: list[str] = []
    explanation_lines: list[str] = []
    trailing: list[str] = []  # after the options, when there is no explanation header
    options: list[str] = []
    seen: set[str] = set()
    line_answers: list[str] = []
    section = "question"  # question → options → trailing; explanation after its header
    has_question_header = has_explanation_header = False
    for line in raw.splitlines():
        norm = nfkc(line)
        spans, _ = _tag_spans(norm)
        if spans and not _outside_tags(norm, spans).strip():
            if section == "options":
                section = "trailing"
            continue  # a line holding only [ans]x[/ans]
        m = _ANSWER_LINE.match(norm) or _ANSWER_SENTENCE.match(norm)
        if m and (m.group("rest").strip() or answers):
            line_answers.append(_ANS_TAG.sub("", m.group("rest")).strip())
            if section == "options":
                section = "trailing"
            continue
        m = _EXPLANATION_HEADER.match(norm)
        if m:
            section, has_explanation_header = "explanation", True
            explanation_lines.append(_original_tail(line, m.group("rest")))
            continue
        if section in ("explanation", "trailing"):
            (explanation_lines if section == "explanation" else trailing).append(line)
            continue
        m = OPTION_LINE.match(line)
        if m:
            letter = match_letter(m)
            if letter in seen:  # the labels start again: an enumeration after the options
                section = "trailing"
                trailing.append(line)
                continue
            seen.add(letter)
            options.append(_MARKDOWN.sub("", m.group("text")).strip())
            section = "options"
            continue
        if section == "options":
            if line.strip():
                section = "trailing"
                trailing.append(line)
            continue
        m = _QUESTION_HEADER.match(norm)
        if m and not has_question_header:
            has_question_header = True
            question_lines = [_original_tail(line, m.group("rest"))]
            continue
        if not _OPTIONS_HEADER.match(norm):
            question_lines.append(line)

    if not (options or answers or line_answers or has_question_header or has_explanation_header):
        return Rejection(SYNTH_UNPARSEABLE, "no JSON object and no labelled options")
    question = _clean_question(question_lines, has_question_header)
    explanation = _clean(explanation_lines if has_explanation_header else trailing)
    answer_values = answers or line_answers[:1]
    missing = [
        name
        for name, value in (
            ("question", question),
            ("options", options),
            ("answer", answer_values),
            ("explanation", explanation),
        )
        if not value
    ]
    if missing:
        return Rejection(SYNTH_MISSING_FIELD, ", ".join(missing))
    if len({label_letter(a) for a in answer_values}) > 1:
        return Rejection(SYNTH_MULTIPLE_ANSWERS, f"{len(set(answer_values))} answers")
    return build_exam(question, options, answer_values[0], explanation)


def _original_tail(line: str, rest: str) -> str:
    """The text after a header as the model wrote it: headers are matched on the NFKC line, and
    NFKC keeps the length of nearly everything (full-width ASCII); else the NFKC text.

    >>> _original_tail("問題：ＰＳＬの量は？", nfkc("問題：ＰＳＬの量は？")[3:])
    'ＰＳＬの量は？'
    """
    tail = line[len(line) - len(rest) :] if rest else ""
    return (tail if nfkc(tail) == rest else rest).strip()


def _tag_spans(norm: str) -> tuple[list[tuple[int, int]], int | None]:
    """Spans of the values of ``[ans]…[/ans]`` pairs in NFKC text, and where the text after a
    final unclosed ``[ans]`` starts (None if there is none). One linear pass: a degenerate
    output repeating ``[ans]`` thousands of times costs no more than its length.

    >>> _tag_spans("x[ans]c[/ans] [ans]d")
    ([(6, 7)], 19)
    """
    spans: list[tuple[int, int]] = []
    open_end = None
    for m in _ANS_TAG.finditer(norm):
        if not m.group(1):
            open_end = m.end()
        elif open_end is not None:
            spans.append((open_end, m.start()))
            open_end = None
    return spans, open_end


def _outside_tags(norm: str, spans: list[tuple[int, int]]) -> str:
    """The text less its ``[ans]…[/ans]`` pairs."""
    pieces, pos = [], 0
    for start, end in spans:
        pieces.append(norm[pos:start])
        pos = end
    pieces.append(norm[pos:])
    return _ANS_TAG.sub("", "".join(pieces))


def _tagged_answers(raw: str) -> tuple[list[str], bool]:
    """The values of ``[ans]…[/ans]`` tags, and whether the output ends in an unclosed tag."""
    norm = nfkc(raw)
    spans, open_end = _tag_spans(norm)
    answers = [norm[a:b].strip() for a, b in spans if norm[a:b].strip()]
    if answers or open_end is None:
        return answers, False
    rest = norm[open_end:].strip()
    if not rest or "\n" not in rest:  # "[ans]c" as the last line: cut at max_tokens
        return [], True
    return [rest.splitlines()[0].strip()], False


def answer_values(raw: str) -> list[str]:
    """The answers an output states as text: ``[ans]…[/ans]`` tags, else answer lines
    (``正解: c``, ``答えはｃです。``), in order (the answer check reads its answers with it).

    >>> answer_values("考えると…\\n正解: ｃ"), answer_values("[ans]b[/ans]"), answer_values("c")
    (['c'], ['b'], [])
    """
    answers, _ = _tagged_answers(raw)
    if answers:
        return answers
    found = []
    for line in raw.splitlines():
        m = _ANSWER_LINE.match(nfkc(line)) or _ANSWER_SENTENCE.match(nfkc(line))
        if m and m.group("rest").strip():
            found.append(m.group("rest").strip())
    return found


def _clean(lines: list[str]) -> str:
    """Lines joined, ``[ans]`` tags (any width) and markdown emphasis removed."""
    text = _ANS_TAG_ANY_WIDTH.sub("", "\n".join(lines))
    return _MARKDOWN.sub("", text).strip()


def _clean_question(lines: list[str], has_header: bool) -> str:
    """The question lines, less leading chatter ("以下に問題を作成しました。") when there was no
    ``問題:`` header to say where the question starts."""
    lines = list(lines)
    if not has_header:
        while lines and (not lines[0].strip() or _CHATTER.match(nfkc(lines[0]).strip())):
            lines.pop(0)
    return _clean(lines)


# --- free QA ---------------------------------------------------------------------------------
def free_from_text(raw: str) -> tuple[str | None, str | None]:
    """Question and answer of a ``質問: … 回答: …`` / ``Q: … A: …`` text (None where absent)."""
    question: list[str] | None = None
    answer: list[str] | None = None
    for line in raw.splitlines():
        norm = nfkc(line)
        if answer is None:
            m = _FREE_A.match(norm) if question is not None else None
            if m:
                answer = [_original_tail(line, m.group("rest"))]
                continue
            m = _FREE_Q.match(norm) if question is None else None
            if m:
                question = [_original_tail(line, m.group("rest"))]
                continue
            if question is not None:
                question.append(line)
        else:
            answer.append(line)
    tagged, _ = _tagged_answers(raw)
    if answer is None and tagged:
        answer = tagged[:1]
    q = _clean(question) if question is not None else None
    a = _clean(answer) if answer is not None else None
    return q, a
