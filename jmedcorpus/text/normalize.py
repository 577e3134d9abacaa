"""Unicode normalization chosen for Japanese clinical text (the ``normalize`` step).

Not NFKC wholesale: NFKC is right for full-width ASCII and half-width katakana but wrong for a few
characters clinical text depends on. What changes, with real examples:

=================  ====================  ===============================================================
input              output                why
=================  ====================  ===============================================================
``ＣＲＰ１５．２``     ``CRP15.2``            full-width ASCII (U+FF01-FF5E) → ASCII, so lab values, drug
                                         codes and Latin terms match however the journal typeset them
``ｶﾞｰｾﾞ``            ``ガーゼ``              half-width katakana → full-width, voiced marks composed
``Ⅱ型糖尿病``        ``II型糖尿病``          Roman numerals → ASCII letters (as NFKC); sources mix Ⅱ, ＩＩ, II
``10㎎``  ``5㎖``     ``10mg``  ``5mL``       unit ligatures → ASCII units; mL/dL with capital L, the Japanese
                                         clinical convention (NFKC would give ``ml``)
``37.5℃``           ``37.5°C``             one spelling for temperature
``µg`` (micro sign)  ``μg`` (Greek mu)    one code point for micro
``①2回``            ``①2回`` (kept)         circled numbers are list markers: NFKC's ``12回`` changes meaning
``〜``, ``ー``, ``・``  kept                   Japanese punctuation and the prolonged sound mark are content
``　`` (U+3000)      `` ``                  ideographic space → ASCII space, then runs of spaces collapse
``\\r\\n``, ``\\r``     ``\\n``                  one line ending
NUL, C0/C1 control   removed               MeCab drops everything after a NUL; controls are invisible junk
lone surrogate       removed               unencodable; MeCab raises on it
=================  ====================  ===============================================================

Whitespace: tabs and spaces collapse to one space, lines are right-stripped, 3+ newlines become 2
(paragraph breaks survive), and the document is stripped. Writes ``normalize_changed_chars``:
about how many characters the step changed or removed (0 for already-clean text).

>>> normalize_text("症例は７０歳，男性．ＣＲＰ　１５．２ｍｇ／ｄＬ")
'症例は70歳,男性.CRP 15.2mg/dL'
>>> normalize_text("ｶﾞｰｾﾞ交換。Ⅱ型糖尿病で①10㎎を投与、37.5℃")
'ガーゼ交換。II型糖尿病で①10mgを投与、37.5°C'
>>> normalize_text("a\\x00b\\r\\n\\r\\n\\r\\n\\nc\\ud800d \\t ")
'ab\\n\\ncd'
"""

from __future__ import annotations

import re
import unicodedata
from typing import ClassVar

from datatrove.pipeline.formatters.base import BaseFormatter

from jmedcorpus.registry import register_step


def _build_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for cp in range(0xFF01, 0xFF5F):  # full-width ASCII
        table[cp] = chr(cp - 0xFEE0)
    table[0x3000] = " "
    for cp in range(0xFF61, 0xFFA0):  # half-width katakana and punctuation: NFKC is right here
        table[cp] = unicodedata.normalize("NFKC", chr(cp))
    for cp in list(range(0x2160, 0x2180)):  # Roman numerals Ⅰ..ⅿ
        table[cp] = unicodedata.normalize("NFKC", chr(cp))
    units = {
        "㎎": "mg",
        "㎏": "kg",
        "㎍": "μg",
        "㎖": "mL",
        "㎗": "dL",
        "㎘": "kL",
        "ℓ": "L",
        "㎕": "μL",
        "㎝": "cm",
        "㎜": "mm",
        "㎞": "km",
        "㎠": "cm2",
        "㎡": "m2",
        "㎥": "m3",
        "㏄": "cc",
        "㎐": "Hz",
        "㎑": "kHz",
        "㎒": "MHz",
        "㎉": "kcal",
        "㎈": "cal",
        "㎳": "ms",
        "㏖": "mol",
        "℃": "°C",
        "℉": "°F",
        "µ": "μ",
        "№": "No.",
        "℡": "TEL",
    }
    table.update({ord(k): v for k, v in units.items()})
    for cp in list(range(0x20)) + list(range(0x7F, 0xA0)):  # C0 and C1 controls
        if chr(cp) not in "\t\n\r":
            table[cp] = ""
    table[0xFEFF] = ""  # BOM / zero-width no-break space
    table[0x200B] = ""  # zero-width space
    return table


_TABLE = _build_table()
_TABLE_CLASS = "".join(re.escape(chr(cp)) for cp in sorted(_TABLE))
_MAPPED = re.compile("[" + _TABLE_CLASS + "\ud800-\udfff]")
# Runs of table characters, rewritten run by run: the same result as ``text.translate(_TABLE)``
# (character by character through the same table) at about twice the speed on Japanese text,
# where ``str.translate`` looks up every character, most of which it leaves alone.
_MAPPED_RUN = re.compile("[" + _TABLE_CLASS + "]+")
_TRANSLATED = {chr(cp): out for cp, out in _TABLE.items()}


def _translate_run(match: re.Match) -> str:
    return "".join(map(_TRANSLATED.__getitem__, match.group()))


_DAKUTEN_HALFWIDTH = re.compile("[\uff9e\uff9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# a run of spaces and tabs becomes one space; written so that a lone ASCII space (every word of
# English text) is not a match to replace with itself
_SPACES = re.compile(r"[ \t\u00A0\u2000-\u200A\u202F\u205F]{2,}|[\t\u00A0\u2000-\u200A\u202F\u205F]")
_TRAILING = re.compile(r" +\n")
_LEADING = re.compile(r"\n +")
_MANY_NEWLINES = re.compile(r"\n{3,}")
# half-width katakana + half-width (semi-)voiced mark → one composed character
_DAKUTEN = re.compile(r"[\u3099\u309A\u309B\u309C]")


def normalize_text(text: str) -> str:
    """Normalize one document's text as described in the module docstring."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _MAPPED_RUN.sub(_translate_run, text)
    if _SURROGATE.search(text):
        text = _SURROGATE.sub("", text)
    if _DAKUTEN.search(text):
        # NFKC of ﾞ/ﾟ gives spacing marks (U+309B/C); turn them into combining marks so NFC composes
        text = unicodedata.normalize("NFC", text.replace("\u309b", "\u3099").replace("\u309c", "\u309a"))
    text = _SPACES.sub(" ", text)
    text = _TRAILING.sub("\n", text)
    text = _LEADING.sub("\n", text)
    text = _MANY_NEWLINES.sub("\n\n", text)
    return text.strip()


@register_step("normalize")
class JapaneseTextNormalizer(BaseFormatter):
    """Rewrite text with :func:`normalize_text` (drops nothing).

    Must run first: every later signal, the MeCab tokens and exact dedup are computed on the
    normalized text, and the normalized text is what the shards contain. Writes
    ``normalize_changed_chars``.
    """

    name = "normalize"
    signal_fields: ClassVar[dict[str, str]] = {"normalize_changed_chars": "int64"}

    def __init__(self) -> None:
        super().__init__()

    def format(self, text: str) -> str:
        return normalize_text(text)

    def run(self, data, rank: int = 0, world_size: int = 1):
        for doc in data:
            self.stat_update("total")
            with self.track_time():
                before = doc.text
                doc.text = normalize_text(before)
                doc.metadata["normalize_changed_chars"] = _changed_chars(before, doc.text)
            yield doc


def _changed_chars(before: str, after: str) -> int:
    """Characters rewritten or removed by the character table (width, units, controls, surrogates,
    half-width kana), plus the net length change from whitespace collapsing: a cheap count (one
    C-level regex pass) rather than an exact diff."""
    if before == after:
        return 0
    return len(_MAPPED.findall(before)) + max(
        0, len(before) - len(after) - len(_DAKUTEN_HALFWIDTH.findall(before))
    )
