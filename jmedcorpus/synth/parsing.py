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

from jmedcorpus.constants import (
    SYNTH_ANSWER_NOT_IN_OPTIONS,
    SYNTH_DUPLICATE_OPTIONS,
    SYNTH_MISSING_FIELD,
    SYNTH_MULTIPLE_ANSWERS,
    SYNTH_TRUNCATED,
    SYNTH_UNPARSEABLE,
    SYNTH_WRONG_OPTION_COUNT,
)
from jmedcorpus.synth.items import (
    ExamItem,
    FreeQA,
    Rejection,
    build_exam,
    label_letter,
    match_letter,
    nfkc,
)
from jmedcorpus.synth.parsing_text import exam_from_text, free_from_text
from jmedcorpus.text.exam import OPTION_LINE

# the reasons parse_exam / parse_free can give (validation adds its own)
PARSE_REASONS = (
    SYNTH_UNPARSEABLE,
    SYNTH_TRUNCATED,
    SYNTH_MISSING_FIELD,
    SYNTH_WRONG_OPTION_COUNT,
    SYNTH_DUPLICATE_OPTIONS,
    SYNTH_ANSWER_NOT_IN_OPTIONS,
    SYNTH_MULTIPLE_ANSWERS,
)

_FENCE = re.compile(r"```[ \t]*(?:(?:json|JSON)[ \t]*)?\n?(.*?)(?:```|\Z)", re.DOTALL)
_JSON_START = re.compile(r'\{\s*"')
_DECODER = json.JSONDecoder(strict=False)  # strict=False: literal newlines inside strings
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")

_KEYS = {
    "question": ("question", "問題", "問題文", "設問", "質問", "q"),
    "options": ("options", "choices", "選択肢"),
    "answer": ("answer", "correct_answer", "correct", "正解", "答え", "解答", "回答", "a"),
    "explanation": ("explanation", "rationale", "解説", "説明"),
}


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
    obj = json_of(raw)
    if isinstance(obj, Rejection):
        return obj
    if obj is not None:
        return _exam_from_json(obj)
    return exam_from_text(raw)


def parse_free(raw: str) -> FreeQA | Rejection:
    """A :class:`FreeQA` from a model output (JSON ``{question, answer}`` or text ``質問: … 回答: …``
    / ``Q: … A: …``), or the :class:`Rejection` saying why not.

    >>> parse_free("Q: 本症例で胆管炎の再増悪時に追加された薬剤は何か。\\nA: UDCA 600 mgが追加された。").answer
    'UDCA 600 mgが追加された。'
    """
    obj = json_of(raw)
    if isinstance(obj, Rejection):
        return obj
    if obj is not None:
        fields = _fields(obj)
        question, answer = _as_text(fields.get("question")), _as_text(fields.get("answer"))
    else:
        question, answer = free_from_text(raw)
        if question is None and answer is None:
            return Rejection(SYNTH_UNPARSEABLE, "no JSON object and no question/answer markers")
    missing = [name for name, value in (("question", question), ("answer", answer)) if not value]
    if missing:
        return Rejection(SYNTH_MISSING_FIELD, ", ".join(missing))
    return FreeQA(question, answer)


def json_object(raw: str | None) -> dict | None:
    """The first JSON object of an output (fenced, amid chatter, with trailing commas), or None
    when there is none or it is broken or cut: the model checks read their verdicts with it.

    >>> json_object('評価です。```json\\n{"score": 4,}\\n```'), json_object('{"score": 4'), json_object("4点")
    ({'score': 4}, None, None)
    """
    obj = json_of(raw or "")
    return obj if isinstance(obj, dict) else None


def json_fields(obj: dict) -> dict:
    """A JSON object's values under our field names (``question``, ``options``, ``answer``,
    ``explanation``), keys matched case- and width-insensitively with their Japanese synonyms."""
    return _fields(obj)


# --- JSON --------------------------------------------------------------------------------------
def json_of(raw: str) -> dict | Rejection | None:
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
    return build_exam(question, options, str(answer), explanation)


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
        if m and match_letter(m) == chr(ord("a") + i):  # "a. ニボルマブ" → "ニボルマブ"
            v = m.group("text").strip()
        options.append(v.strip())
    return options
