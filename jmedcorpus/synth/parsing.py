"""Parse model outputs into exam items (5-option, single answer) and free-form QA pairs.

Two output shapes are accepted, whichever the engine produced:

* **JSON** (engines with JSON-schema guided decoding, or a model that follows the prompt): an
  object with ``question``, ``options`` (a list of 5 strings, or an object keyed ``a``-``e``),
  ``answer`` and ``explanation``; it may sit inside a ```` ```json ```` fence or between lines of
  chatter. Keys are matched case-insensitively, with Japanese synonyms (``問題``, ``選択肢``,
  ``正解``, ``解説``; ``質問``, ``回答``). Once an output looks like JSON (``{"`` after any fence)
  it is judged as JSON only: an object cut at ``max_tokens`` is ``synth_truncated``, never
  re-read as text.
* **Text**: question lines, option lines labelled ``a``-``e`` in the usual exam forms (``a.``,
  ``a)``, ``(a)``, ``A.``, ``ａ．``, ``a　…``), an explanation section (``解説:``, ``【解説】``)
  and the answer as ``[ans]c[/ans]`` (also a line ``正解: c`` / ``答え：ｃ``). Free QA as
  ``質問: … 回答: …`` or ``Q: … A: …``.

The answer may be a letter in any common spelling (``c``, ``C``, ``(c)``, ``ｃ``, ``c.``,
``cです``) or the text of an option; it is stored as one lower-case letter ``a``-``e``.

Every failure is a :class:`Rejection` whose ``reason`` is a ``synth_*`` constant and whose
``detail`` holds only counts, letters and field names: never generated or document text, because
the passage behind a generated item may hold patient information.

>>> parse_exam('{"question": "本症例で投与された薬剤はどれか。", "options": ["A", "B", "C", "D", "E"], '
...            '"answer": "(C)", "explanation": "本文に記載がある。"}').answer
'c'
>>> parse_exam("問題: 本症例の診断はどれか。\\na. 胆管炎\\nb. 肝炎\\n[ans]a[/ans]\\n解説: 本文参照。")
Rejection(reason='synth_wrong_option_count', detail='2 options, expected 5')
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass

from jmedcorpus.constants import (
    SYNTH_ANSWER_NOT_IN_OPTIONS,
    SYNTH_DUPLICATE_OPTIONS,
    SYNTH_MISSING_FIELD,
    SYNTH_MULTIPLE_ANSWERS,
    SYNTH_TRUNCATED,
    SYNTH_UNPARSEABLE,
    SYNTH_WRONG_OPTION_COUNT,
)

N_OPTIONS = 5
LETTERS = "abcde"
# the reasons this module can give (validation adds its own)
PARSE_REASONS = (
    SYNTH_UNPARSEABLE,
    SYNTH_TRUNCATED,
    SYNTH_MISSING_FIELD,
    SYNTH_WRONG_OPTION_COUNT,
    SYNTH_DUPLICATE_OPTIONS,
    SYNTH_ANSWER_NOT_IN_OPTIONS,
    SYNTH_MULTIPLE_ANSWERS,
)


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


@dataclass
class FreeQA:
    """A free-form question and its answer."""

    question: str
    answer: str


@dataclass
class Rejection:
    """Why an output was rejected: a ``synth_*`` reason and a detail of counts, letters and field
    names only (never generated or document text)."""

    reason: str
    detail: str = ""


# --- shared patterns -------------------------------------------------------------------------
# Option labels: a-h so that a sixth option ("f.") is seen and counted, not taken for text.
_L = "a-hA-Hａ-ｈＡ-Ｈ"
OPTION_LINE = re.compile(
    rf"""^[ \t\u3000]*(?:[-*・][ \t]*)?(?:\*\*)?
    (?:[(（][ \t]*(?P<p>[{_L}])[ \t]*[)）]            # (a) （ａ）
      |(?P<s>[{_L}])[ \t]*[.．)）:：、]               # a. a) ａ． A: a、
      |(?P<w>[{_L}])[ \t\u3000]+(?=[^\x00-\x7f])      # "a　胆管炎" (exam booklet style), not "a patient"
    )(?:\*\*)?(?P<text>.*)$""",  # greedy, stripped by the caller: no backtracking on long lines
    re.VERBOSE,
)
_FENCE = re.compile(r"```[ \t]*(?:(?:json|JSON)[ \t]*)?\n?(.*?)(?:```|\Z)", re.DOTALL)
_JSON_START = re.compile(r'\{\s*"')
_DECODER = json.JSONDecoder(strict=False)  # strict=False: literal newlines inside strings
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")

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

_KEYS = {
    "question": ("question", "問題", "問題文", "設問", "質問", "q"),
    "options": ("options", "choices", "選択肢"),
    "answer": ("answer", "correct_answer", "correct", "正解", "答え", "解答", "回答", "a"),
    "explanation": ("explanation", "rationale", "解説", "説明"),
}


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


# --- entry points ------------------------------------------------------------------------------
def parse_exam(raw: str) -> ExamItem | Rejection:
    """An :class:`ExamItem` from a model output, or the :class:`Rejection` saying why not.

    Reasons: ``synth_unparseable``, ``synth_truncated``, ``synth_missing_field`` (detail: the
    field), ``synth_wrong_option_count``, ``synth_duplicate_options``,
    ``synth_answer_not_in_options``, ``synth_multiple_answers``.

    >>> item = parse_exam("本症例で追加された薬剤はどれか。\\nａ．PSL\\nｂ．UDCA\\nｃ．MMF\\nｄ．LVFX\\n"
    ...                   "ｅ．CMZ\\n解説：胆管炎の再増悪時にUDCAが追加された。\\n答え：ｂ")
    >>> item.options[1], item.answer, item.answer_text
    ('UDCA', 'b', 'UDCA')
    """
    obj = _json_of(raw)
    if isinstance(obj, Rejection):
        return obj
    if obj is not None:
        return _exam_from_json(obj)
    return _exam_from_text(raw)


def parse_free(raw: str) -> FreeQA | Rejection:
    """A :class:`FreeQA` from a model output (JSON ``{question, answer}`` or text ``質問: … 回答: …``
    / ``Q: … A: …``), or the :class:`Rejection` saying why not.

    >>> parse_free("Q: 本症例で胆管炎の再増悪時に追加された薬剤は何か。\\nA: UDCA 600 mgが追加された。").answer
    'UDCA 600 mgが追加された。'
    """
    obj = _json_of(raw)
    if isinstance(obj, Rejection):
        return obj
    if obj is not None:
        fields = _fields(obj)
        question, answer = _as_text(fields.get("question")), _as_text(fields.get("answer"))
    else:
        question, answer = _free_from_text(raw)
        if question is None and answer is None:
            return Rejection(SYNTH_UNPARSEABLE, "no JSON object and no question/answer markers")
    missing = [name for name, value in (("question", question), ("answer", answer)) if not value]
    if missing:
        return Rejection(SYNTH_MISSING_FIELD, ", ".join(missing))
    return FreeQA(question, answer)


# --- JSON --------------------------------------------------------------------------------------
def _json_of(raw: str) -> dict | Rejection | None:
    """The output's JSON object; a Rejection for an empty output or broken JSON; None when the
    output is not JSON (then it is read as text)."""
    if not raw or not raw.strip():
        return Rejection(SYNTH_UNPARSEABLE, "empty output")
    return _extract_json(raw)


def _extract_json(raw: str) -> dict | Rejection | None:
    """The first JSON object of the output; None when the output does not look like JSON."""
    fence = _FENCE.search(raw)
    candidate = fence.group(1) if fence else raw
    start = _JSON_START.search(candidate)
    if start is None:
        return None
    if _unclosed(candidate[start.start() :]):
        return Rejection(SYNTH_TRUNCATED, "JSON object not closed")
    first_error = None
    for text in (candidate, _TRAILING_COMMA.sub(r"\1", candidate)):
        for m in list(_JSON_START.finditer(text))[:20]:  # chatter rarely holds more objects
            try:
                obj, _end = _DECODER.raw_decode(text, m.start())
            except json.JSONDecodeError as e:
                first_error = first_error or e
            else:
                if isinstance(obj, dict):
                    return obj
    where = f" (line {first_error.lineno}, column {first_error.colno})" if first_error else ""
    return Rejection(SYNTH_UNPARSEABLE, f"invalid JSON{where}")


def _unclosed(text: str) -> bool:
    """Whether the text ends inside a string or an open object/array (cut at ``max_tokens``).

    >>> _unclosed('{"a": ["x", "y'), _unclosed('{"a": 1}'), _unclosed('{"a": 1,,}')
    (True, False, False)
    """
    depth, in_string, escape = 0, False, False
    for ch in text:
        if in_string:
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                return False
    return in_string or depth > 0


def _fields(obj: dict) -> dict:
    """The object's values under our field names (keys matched case- and width-insensitively)."""
    by_key = {nfkc(str(k)).strip().lower(): v for k, v in obj.items()}
    out = {}
    for field, names in _KEYS.items():
        for name in names:
            if name in by_key:
                out[field] = by_key[name]
                break
    return out


def _as_text(value) -> str | None:
    """A string field; a list of strings is joined by line (a vignette split into sentences)."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return "\n".join(v.strip() for v in value).strip() or None
    return None


def _exam_from_json(obj: dict) -> ExamItem | Rejection:
    fields = _fields(obj)
    question = _as_text(fields.get("question"))
    explanation = _as_text(fields.get("explanation"))
    options = _json_options(fields.get("options"))
    answer = fields.get("answer")
    if isinstance(answer, list) and len(answer) == 1:
        answer = answer[0]
    if isinstance(answer, list) and len(answer) > 1:
        return Rejection(SYNTH_MULTIPLE_ANSWERS, f"{len(answer)} answers")
    if isinstance(answer, bool) or not isinstance(answer, (str, int)) or not str(answer).strip():
        answer = None
    missing = [
        name
        for name, value in (
            ("question", question),
            ("options", options),
            ("answer", answer),
            ("explanation", explanation),
        )
        if value is None
    ]
    if missing:
        return Rejection(SYNTH_MISSING_FIELD, ", ".join(missing))
    return _build_exam(question, options, str(answer), explanation)


def _json_options(value) -> list[str] | None:
    """Option texts from a list (labels stripped), an object keyed by letter (in letter order) or
    one string of labelled lines (``"a. PSL\\nb. UDCA…"``)."""
    if isinstance(value, str):
        lines = [OPTION_LINE.match(line) for line in value.splitlines() if line.strip()]
        value = [m.group("text").strip() for m in lines if m] if lines and all(lines) else None
    if isinstance(value, dict):
        keys = [label_letter(str(k)) for k in value]
        values = list(value.values())
        if all(len(k) == 1 and k.isalpha() for k in keys):
            values = [v for _, v in sorted(zip(keys, values), key=lambda kv: kv[0])]
        value = values
    if not isinstance(value, list) or not value:
        return None
    options = []
    for i, v in enumerate(value):
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            v = str(v)
        if not isinstance(v, str):
            return None
        m = OPTION_LINE.match(v)
        if m and _match_letter(m) == chr(ord("a") + i):  # "a. ニボルマブ" → "ニボルマブ"
            v = m.group("text").strip()
        options.append(v.strip())
    return options


# --- text --------------------------------------------------------------------------------------
def _match_letter(m: re.Match) -> str:
    return label_letter(m.group("p") or m.group("s") or m.group("w"))


def _exam_from_text(raw: str) -> ExamItem | Rejection:
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
            letter = _match_letter(m)
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
    return _build_exam(question, options, answer_values[0], explanation)


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


# --- the checks shared by both shapes ----------------------------------------------------------
def _build_exam(question: str, options: list[str], answer: str, explanation: str) -> ExamItem | Rejection:
    if len(options) != N_OPTIONS:
        return Rejection(SYNTH_WRONG_OPTION_COUNT, f"{len(options)} options, expected {N_OPTIONS}")
    empty = [LETTERS[i] for i, o in enumerate(options) if not o.strip()]
    if empty:
        return Rejection(SYNTH_MISSING_FIELD, f"option {','.join(empty)} empty")
    keys = [option_key(o) for o in options]
    for i, key in enumerate(keys):
        if key in keys[:i]:
            return Rejection(SYNTH_DUPLICATE_OPTIONS, f"{LETTERS[keys.index(key)]}={LETTERS[i]}")
    letter = _answer_letter(answer, keys)
    if isinstance(letter, Rejection):
        return letter
    return ExamItem(question.strip(), [o.strip() for o in options], letter, explanation.strip())


_LETTER_ANSWER = re.compile(r"[(\[（【]?\s*([a-z])(?:\s*[)\]）】])?(?:\s*[.:、])?")
_SEPARATOR = r"\s*(?:[,、/・]|and|と|および|及び)\s*|\s+"
_MULTI_ANSWER = re.compile(rf"[(（]?[a-z][)）]?(?:(?:{_SEPARATOR})[(（]?[a-z][)）]?)+")
_LABELLED_ANSWER = re.compile(r"[(（]?([a-h])(?:[)）.:、。]|\s)\s*\S")


def _answer_letter(answer: str, option_keys: list[str]) -> str | Rejection:
    """The answer as a letter ``a``-``e``: from a letter in any spelling or from an option's text.

    >>> keys = [option_key(o) for o in ("胆管炎", "肝炎", "膵炎", "胆嚢炎", "PSL")]
    >>> [_answer_letter(a, keys) for a in ("c", "(C)", "ｃ", "Ｄ．", "eです", "胆嚢炎", "b. 肝炎", "ＰＳＬ")]
    ['c', 'c', 'c', 'd', 'e', 'd', 'b', 'e']
    >>> _answer_letter("f", keys)
    Rejection(reason='synth_answer_not_in_options', detail='letter f outside a-e')
    >>> _answer_letter("b, d", keys)
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


def _free_from_text(raw: str) -> tuple[str | None, str | None]:
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
