"""Patterns of exam text shared by the build's benchmark matching and synth's validation.

``OPTION_LINE`` reads the option lines of a multiple-choice question (``a.``, ``(b)``, ``ｃ）``,
``d　胆管炎``); ``TOKEN_STRIP`` is what is removed from a MeCab token before n-grams of exam text
are compared (punctuation, separators, controls).
"""

from __future__ import annotations

import re
import unicodedata

import regex

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


TOKEN_STRIP = regex.compile(r"[\p{P}\p{Z}\p{C}\s]+")
_LABELS = re.compile(OPTION_LINE.pattern, OPTION_LINE.flags | re.MULTILINE)


def benchmark_tokens(text: str) -> list[str]:
    """The tokens n-grams are made of: option labels (``a.`` at a line start) removed, NFKC,
    MeCab, each token lower-cased with punctuation and spaces removed, empty tokens dropped.

    >>> benchmark_tokens("高アンモニア血症をきたす疾患はどれか。\\na. Gaucher病")
    ['高', 'アンモニア', '血', '症', 'を', 'きたす', '疾患', 'は', 'どれ', 'か', 'gaucher', '病']
    """
    from jmedcorpus.text.mecab import get_tokenizer

    text = _LABELS.sub(lambda m: m.group("text").strip(), unicodedata.normalize("NFKC", text))
    tokens = (TOKEN_STRIP.sub("", t.lower()) for t in get_tokenizer().word_tokenize(text))
    return [t for t in tokens if t]
