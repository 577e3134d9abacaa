"""Character-class counts for Japanese text, shared by every filter that measures script ratios.

Ratios are over non-whitespace characters, so layout (indentation, blank lines) does not move
them.

Speed: :func:`char_counts` classifies every character of a document in one vectorized pass (a
code point -> class-bits table built once per process from the very patterns below, then one
NumPy lookup and ``bincount``) and remembers the last document, so the hiragana, Japanese,
katakana, symbol and digit ratio filters share one scan of each document and only divide; it is
about 10x faster than one regex ``findall`` per ratio (5 MB of Japanese: 0.29 s -> 0.03 s).

>>> round(hiragana_ratio("症例は70歳，男性．"), 3)
0.1
>>> round(japanese_ratio("症例は70歳，男性．"), 3)
0.6
>>> japanese_ratio("")
0.0
>>> char_counts("症例は70歳，男性．")
CharCounts(non_space=10, hiragana=1, katakana=0, kanji=5, ascii_letter=0, digit=2, symbol=2)
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

import numpy as np
import regex

from jmedcorpus.text.recent import RecentTexts

HIRAGANA = re.compile(r"[\u3041-\u309F]")
# katakana block + phonetic extensions; the prolonged sound mark ー (U+30FC) is inside
KATAKANA = re.compile(r"[\u30A0-\u30FF\u31F0-\u31FF]")
KANA = re.compile(r"[\u3041-\u309F\u30A0-\u30FF\u31F0-\u31FF]")
KANJI = re.compile(r"[\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF\u3005\u3006\u3007]")
JAPANESE = re.compile(
    r"[\u3041-\u309F\u30A0-\u30FF\u31F0-\u31FF\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF\u3005-\u3007]"
)
ASCII_LETTER = re.compile(r"[A-Za-z]")
DIGIT = re.compile(r"[0-9０-９]")
WHITESPACE = re.compile(r"\s")
# Unicode punctuation (P*) and symbols (S*): ，．（）％/→★… ; not letters, digits or ー (Lm)
SYMBOL = regex.compile(r"[\p{P}\p{S}]")


class CharCounts(NamedTuple):
    """Characters of one text per class; the classes are those of the patterns of this module
    (``non_space``: not :data:`WHITESPACE`). A character can be in two classes (゛ is hiragana and
    a symbol; ・ katakana and a symbol)."""

    non_space: int
    hiragana: int
    katakana: int
    kanji: int
    ascii_letter: int
    digit: int
    symbol: int


# one bit per class, in CharCounts order with whitespace first
_CLASS_PATTERNS = (WHITESPACE, HIRAGANA, KATAKANA, KANJI, ASCII_LETTER, DIGIT, SYMBOL)
_N_CODES = 1 << len(_CLASS_PATTERNS)


@functools.cache
def _tables() -> tuple[np.ndarray, np.ndarray]:
    """(class bits of every code point, bits matrix: code -> per-class 0/1), built once (~0.05 s)
    by running each class pattern over all of Unicode, so a table entry is exactly what the
    pattern matches."""
    # every code point, lone surrogates included, decoded in one call (a join of 1.1M chr() took 0.11 s)
    every = np.arange(0x110000, dtype=np.uint32).tobytes().decode("utf-32-le", "surrogatepass")
    bits = np.zeros(0x110000, dtype=np.uint8)
    for b, pattern in enumerate(_CLASS_PATTERNS):
        bits[np.fromiter(map(ord, pattern.findall(every)), dtype=np.int64)] |= 1 << b
    matrix = (np.arange(_N_CODES)[:, None] >> np.arange(len(_CLASS_PATTERNS))) & 1
    return bits, matrix.astype(np.int64)


_COUNTS: RecentTexts[CharCounts] = RecentTexts()


def char_counts(text: str) -> CharCounts:
    """Per-class character counts of ``text`` (one vectorized pass).

    Remembers the most recent texts counted (:mod:`jmedcorpus.text.recent`): the ratio filters
    ask in turn for the same documents, so each is scanned once however many of them run.
    """
    known = _COUNTS.get(text)
    if known is not None:
        return known
    bits, matrix = _tables()
    # lone surrogates are code points like any other here (the regexes match them the same way)
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    per_class = (np.bincount(bits[codes], minlength=_N_CODES) @ matrix).tolist()
    counts = CharCounts(len(text) - per_class[0], *per_class[1:])
    _COUNTS.put(text, counts)
    return counts


_NON_SPACE: RecentTexts[int] = RecentTexts()


def non_space_len(text: str) -> int:
    """Number of non-whitespace characters.

    Remembers the most recent texts measured: the filters that need it ask for the same
    documents in turn, so the whitespace pass runs once per document instead of once per filter.
    Also answers from :func:`char_counts`'s documents.
    """
    known = _NON_SPACE.get(text)
    if known is not None:
        return known
    counts = _COUNTS.get(text)
    if counts is not None:
        return counts.non_space
    n = len(text) - len(WHITESPACE.findall(text))
    _NON_SPACE.put(text, n)
    return n


def _share(count: int, non_space: int) -> float:
    return count / non_space if non_space else 0.0


def hiragana_ratio(text: str) -> float:
    """Hiragana per non-space character."""
    c = char_counts(text)
    return _share(c.hiragana, c.non_space)


def katakana_ratio(text: str) -> float:
    """Katakana per non-space character."""
    c = char_counts(text)
    return _share(c.katakana, c.non_space)


def kana_ratio(text: str) -> float:
    """Hiragana + katakana per non-space character: script evidence that text is Japanese.

    >>> round(kana_ratio("Grey-Turner徴候はどれか。"), 3)  # 4 kana of 18 non-space characters
    0.222
    """
    c = char_counts(text)
    return _share(c.hiragana + c.katakana, c.non_space)  # KANA = HIRAGANA + KATAKANA, disjoint


def kanji_ratio(text: str) -> float:
    """Kanji per non-space character."""
    c = char_counts(text)
    return _share(c.kanji, c.non_space)


def japanese_ratio(text: str) -> float:
    """Hiragana + katakana + kanji per non-space character (punctuation and digits excluded)."""
    c = char_counts(text)
    return _share(c.hiragana + c.katakana + c.kanji, c.non_space)  # JAPANESE = their disjoint union


def ascii_letter_ratio(text: str) -> float:
    """ASCII letters per non-space character."""
    c = char_counts(text)
    return _share(c.ascii_letter, c.non_space)


def digit_ratio(text: str) -> float:
    """Digits (half- and full-width) per non-space character."""
    c = char_counts(text)
    return _share(c.digit, c.non_space)


def symbol_ratio(text: str) -> float:
    """Punctuation and symbol characters (:data:`SYMBOL`) per non-space character.

    >>> symbol_ratio("★★★ ☆☆☆")
    1.0
    >>> round(symbol_ratio("CRP 0.3 mg/dL。"), 3)
    0.25
    """
    c = char_counts(text)
    return _share(c.symbol, c.non_space)
