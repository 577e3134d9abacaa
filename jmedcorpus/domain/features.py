"""Features of the medical-domain classifier: the distinct hashed content words and character
bigrams of a document.

Content only, on purpose. Particles, inflected verbs and adjectives, punctuation, digits and
single Latin letters carry the *style* of the training sources more than their domain: trained on
every MeCab word token, the heaviest medical weights went to ``a b c d e``, ``どれ`` and ``か``,
the answer labels and the question ending of the licensing exam, which any quiz in a general
crawl shares; with inflected words kept, ``正しい``, ``選べ`` (the exam's instructions) and ``行っ``
(検査を行った) still weighed most. In a development run on the same data (trained on the exam
questions and Wikipedia only, scored on case reports it never saw), 10 % of the case reports
reached 0.5 with every word token as a feature, 98.6 % with the tokens that hold a kanji,
katakana or two Latin letters; the rule below reaches 100 % (``bench/domain_accuracy.py``
reports this cross-source check).

- a MeCab token counts when it is written in kanji, katakana, Latin letters and digits only (no
  hiragana, no punctuation) and holds a kanji or katakana letter or two adjacent Latin letters:
  肺癌, ステロイド, CRP, 家族; not の, 行っ, 正しい, 。, 15, a;
- a character bigram counts when both characters are kanji, katakana (ー included) or Latin
  letters; bigrams reach the compounds MeCab splits into generic pieces (好酸|球 → 酸球).

Tokens are hashed with xxh32 of their UTF-8 bytes, bigrams with a multiplicative hash of the two
UTF-16 code units; the top ``bits`` bits of either 32-bit hash index one shared space. A
document's features are the set of distinct indices (presence, not counts): the model scores
their mean weight, so a score does not grow with document length.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import xxhash

FEATURES_VERSION = "content-tokens+bigrams-v1"  # recorded in model files; change when features change

_KANJI_KATAKANA = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u30a1-\u30fa\u31f0-\u31ff\U00020000-\U0003134f"
_WRITTEN = re.compile(f"[{_KANJI_KATAKANA}\u30fc\u3005A-Za-z0-9]+")  # ー and 々 inside words
_LETTERS = re.compile(f"[{_KANJI_KATAKANA}]|[A-Za-z]{{2}}")


def is_content_token(token: str) -> bool:
    """Whether a MeCab token is a feature: written in kanji, katakana, Latin letters and digits only,
    with a kanji or katakana letter or two adjacent Latin letters.

    >>> [is_content_token(t) for t in ["肺癌", "ステロイド", "CRP", "IgG", "人々", "HbA1c"]]
    [True, True, True, True, True, True]
    >>> [is_content_token(t) for t in ["の", "行っ", "正しい", "。", "15", "a", "・", "ー"]]
    [False, False, False, False, False, False, False, False]
    """
    return _WRITTEN.fullmatch(token) is not None and _LETTERS.search(token) is not None


def _letter_table() -> np.ndarray:
    table = np.zeros(0x10000, dtype=bool)
    for lo, hi in ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x30A1, 0x30FA), (0x31F0, 0x31FF)):
        table[lo : hi + 1] = True
    table[0x30FC] = True  # ー inside katakana words (カテーテル)
    table[ord("A") : ord("Z") + 1] = True
    table[ord("a") : ord("z") + 1] = True
    return table


_LETTER = _letter_table()  # by UTF-16 code unit: the rare kanji beyond the BMP are surrogates, no letters
_KNUTH = np.uint32(0x9E3779B1)  # multiplicative hashing: a bijection on 32 bits, top bits well mixed

# content token -> its xxh32 hash, and the tokens that are no content: tokens repeat heavily (a few
# thousand types cover most of a corpus), so a document costs a set difference and one dict
# lookup per distinct token; both emptied when they would exceed _MAX_CACHED_TOKENS types.
_CONTENT_HASH: dict[str, int] = {}
_NOT_CONTENT: set[str] = set()
_MAX_CACHED_TOKENS = 1 << 18


def _learn(tokens: set[str]) -> None:
    new = tokens.difference(_CONTENT_HASH, _NOT_CONTENT)
    if len(_CONTENT_HASH) + len(_NOT_CONTENT) + len(new) > _MAX_CACHED_TOKENS:
        _CONTENT_HASH.clear()
        _NOT_CONTENT.clear()
    for token in new:
        if is_content_token(token):
            _CONTENT_HASH[token] = xxhash.xxh32_intdigest(token.encode("utf-8"))
        else:
            _NOT_CONTENT.add(token)


def token_hashes(tokens: Sequence[str]) -> np.ndarray:
    """32-bit hashes (uint32) of the distinct content tokens among ``tokens``, in no set order."""
    distinct = set(tokens)
    distinct -= _NOT_CONTENT
    try:
        return np.fromiter(map(_CONTENT_HASH.__getitem__, distinct), dtype=np.uint32, count=len(distinct))
    except KeyError:  # a token not seen yet: classify each new type once
        _learn(distinct)
        distinct -= _NOT_CONTENT
        return np.fromiter(map(_CONTENT_HASH.__getitem__, distinct), dtype=np.uint32, count=len(distinct))


def bigram_hashes(text: str) -> np.ndarray:
    """32-bit hashes (uint32) of the letter bigrams of ``text``, in order, repeats kept.

    >>> len(bigram_hashes("肺癌の治療。CT")), len(bigram_hashes("の。15"))
    (3, 0)
    """
    units = np.frombuffer(text.encode("utf-16-le"), dtype=np.uint16)
    letter = _LETTER[units]
    keys = (units[:-1].astype(np.uint32) << np.uint32(16)) | units[1:]
    return keys[letter[:-1] & letter[1:]] * _KNUTH


def feature_indices(text: str, tokens: Sequence[str], bits: int) -> np.ndarray:
    """Sorted distinct feature indices (``0 <= i < 2**bits``) of a document from its text and
    its MeCab tokens (what ``get_tokenizer().word_tokenize(text)`` returns).

    >>> feature_indices("肺癌。肺癌", ["肺", "癌", "。", "肺", "癌"], 18).size  # 肺, 癌 and the bigram 肺癌
    3
    >>> feature_indices("の。", ["の", "。"], 18).size
    0
    """
    found = np.concatenate([token_hashes(tokens), bigram_hashes(text)]) >> np.uint32(32 - bits)
    found.sort()
    return found[np.concatenate(([True], found[1:] != found[:-1]))] if found.size else found
