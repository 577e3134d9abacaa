"""Character-class counts for Japanese text, shared by every filter that measures script ratios.

Ratios are over non-whitespace characters, so layout (indentation, blank lines) does not move
them.

>>> round(hiragana_ratio("症例は70歳，男性．"), 3)
0.1
>>> round(japanese_ratio("症例は70歳，男性．"), 3)
0.6
>>> japanese_ratio("")
0.0
"""

from __future__ import annotations

import re

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


_LAST_NON_SPACE: tuple[str, int] = ("", 0)


def non_space_len(text: str) -> int:
    """Number of non-whitespace characters.

    Remembers the last text measured: the ratio filters each ask for the same document in turn,
    so the whitespace pass runs once per document instead of once per filter.
    """
    global _LAST_NON_SPACE
    last_text, last_n = _LAST_NON_SPACE
    if text is last_text:
        return last_n
    n = len(text) - len(WHITESPACE.findall(text))
    _LAST_NON_SPACE = (text, n)
    return n


def _ratio(pattern: re.Pattern[str], text: str) -> float:
    n = non_space_len(text)
    return len(pattern.findall(text)) / n if n else 0.0


def hiragana_ratio(text: str) -> float:
    """Hiragana per non-space character."""
    return _ratio(HIRAGANA, text)


def katakana_ratio(text: str) -> float:
    """Katakana per non-space character."""
    return _ratio(KATAKANA, text)


def kana_ratio(text: str) -> float:
    """Hiragana + katakana per non-space character: script evidence that text is Japanese.

    >>> round(kana_ratio("Grey-Turner徴候はどれか。"), 3)  # 4 kana of 18 non-space characters
    0.222
    """
    return _ratio(KANA, text)


def kanji_ratio(text: str) -> float:
    """Kanji per non-space character."""
    return _ratio(KANJI, text)


def japanese_ratio(text: str) -> float:
    """Hiragana + katakana + kanji per non-space character (punctuation and digits excluded)."""
    return _ratio(JAPANESE, text)


def ascii_letter_ratio(text: str) -> float:
    """ASCII letters per non-space character."""
    return _ratio(ASCII_LETTER, text)


def digit_ratio(text: str) -> float:
    """Digits (half- and full-width) per non-space character."""
    return _ratio(DIGIT, text)
