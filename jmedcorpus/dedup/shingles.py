"""Shingles for near-duplicate detection: normalization, then hashed character or MeCab-token
n-grams, computed with numpy on code points (no Python loop per shingle).

Normalization for shingling (decided for Japanese medical text, unlike datatrove's default
``simplify_text``, which strips dakuten (が→か) and maps every number to 0):

==========================  ==========  =====================================================
what                        done        why
==========================  ==========  =====================================================
full-width ASCII            → ASCII     ``ＣＲＰ１５`` and ``CRP15`` are the same text typeset twice
half-width katakana         → full      ``ｶﾞｰｾﾞ`` and ``ガーゼ`` (voiced marks composed)
Latin capitals              → lower     ``CT``/``ct``, ``Stage``/``stage`` in reprints
spaces, line breaks         removed     Japanese has no word spaces; reflowed copies break lines
                                        elsewhere
punctuation (Unicode P*)    removed     journals use ``，．`` where others use ``、。``; but a
                                        decimal point between digits is kept (15.2 ≠ 1.52)
〜 ～ ~                      → ~         the wave-dash / full-width tilde confusion of Shift_JIS
dakuten, handakuten         kept        ``ガン`` and ``カン``, ``ビ`` and ``ヒ`` are different words
digits                      kept        doses and lab values are content; one edited number
                                        changes only n shingles, so the copy is still found
symbols (°, ±, ↑)           kept        ``↑``/``↓`` carry meaning in clinical notes
==========================  ==========  =====================================================

A document whose normalized text is shorter than ``n`` gets one shingle: the whole text (datatrove
gives such documents no shingles at all, so they are never deduplicated; llm-jp patched this).
Only an empty normalized text has no shingles.

Shingle hashes are 32-bit (datasketch's ``affine32`` MinHash scheme takes 32-bit input): a
polynomial hash of the n code points (or n token hashes) modulo 2^64, mixed and cut to its high
32 bits. A document's shingles are not made unique: MinHash takes a minimum, so repeats change
nothing, and skipping the sort is faster.

Everything works on a batch of documents at once (the texts laid end to end, an owner index per
code point): per-document numpy calls would cost more than the hashing on short documents.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import NamedTuple

import numpy as np

_MULT = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit constant (golden ratio): multiplier of the rolling hash
_HALFWIDTH_RUN = re.compile("[\uff61-\uff9f]+")  # half-width katakana: ﾞ ﾟ compose with the kana before
_WAVE_DASHES = (0x301C, 0xFF5E, 0x007E)  # 〜 ～ ~


@functools.cache
def _code_point_table() -> np.ndarray:
    """Code point → normalized code point for the Basic Multilingual Plane; 0 means 'drop'.

    Astral code points (rare CJK extensions, emoji) pass through unchanged.
    """
    table = np.arange(0x10000, dtype=np.uint32)
    for cp in range(0x10000):
        ch = chr(cp)
        cat = unicodedata.category(ch)
        if cp in _WAVE_DASHES:
            table[cp] = ord("~")  # 〜 (a dash to Unicode) and ～ are the same mark: 3〜5日 = 3～5日
            continue
        if cp == 0x2212:
            table[cp] = 0  # minus sign: dropped like the hyphen-minus it stands for (S−1 = S-1)
            continue
        if cat[0] in "PZ" or ch.isspace() or cat in ("Cc", "Cf", "Cs"):
            table[cp] = 0
            continue
        if 0xFF01 <= cp <= 0xFF5E:
            ch = chr(cp - 0xFEE0)  # full-width ASCII
            if unicodedata.category(ch)[0] == "P":
                table[cp] = 0
                continue
        elif 0xFF61 <= cp <= 0xFF9F:
            ch = unicodedata.normalize("NFKC", ch)  # half-width katakana → full-width
        low = ch.lower()
        table[cp] = ord(low if len(low) == 1 else ch)
    return table


class Shingles(NamedTuple):
    """The shingle hashes of a batch of documents, grouped by document."""

    hashes: np.ndarray  # uint32
    owner: np.ndarray  # int64, the document index of each hash, non-decreasing

    def of(self, doc: int) -> np.ndarray:
        """The hashes of one document (for tests and exact Jaccard)."""
        lo, hi = np.searchsorted(self.owner, [doc, doc + 1])
        return self.hashes[lo:hi]


def _compose_halfwidth(text: str) -> str:
    """NFKC on half-width katakana runs only, so that ｶﾞ becomes ガ (one character) and nothing
    else in the text changes."""
    return _HALFWIDTH_RUN.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)


def _normalized_batch(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Normalized code points of all texts end to end, and the owning document of each."""
    texts = [_compose_halfwidth(t) if "\uff9e" in t or "\uff9f" in t else t for t in texts]
    cps = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    owner = np.repeat(np.arange(len(texts), dtype=np.int64), [len(t) for t in texts])
    bmp = cps < 0x10000
    mapped = np.where(bmp, _code_point_table()[np.where(bmp, cps, 0)], cps)
    # a decimal point is content (15.2 is not 152): keep . or ． between two digits, judged
    # after spaces and line breaks are gone (a reflowed copy may break a line inside a number)
    mapped[(cps == 0x2E) | (cps == 0xFF0E)] = 0x2E
    keep = mapped != 0
    mapped, owner = mapped[keep], owner[keep]
    dot = np.flatnonzero(mapped == 0x2E)
    if len(dot):
        inner = dot[(dot > 0) & (dot < len(mapped) - 1)]
        digit = (mapped >= 0x30) & (mapped <= 0x39)
        decimal = inner[digit[inner - 1] & digit[inner + 1] & (owner[inner - 1] == owner[inner + 1])]
        drop = np.setdiff1d(dot, decimal, assume_unique=True)
        if len(drop):
            keep = np.ones(len(mapped), dtype=bool)
            keep[drop] = False
            mapped, owner = mapped[keep], owner[keep]
    return mapped, owner


def normalized_code_points(text: str) -> np.ndarray:
    """The code points of ``text`` after shingle normalization (see the module docstring).

    >>> "".join(map(chr, normalized_code_points("ＣＲＰ １５．２，ｶﾞｰｾﾞ\\nが")))
    'crp15.2ガーゼが'
    """
    return _normalized_batch([text])[0]


def _powers(count: int) -> np.ndarray:
    """``_MULT ** k`` modulo 2^64 for k < count."""
    out, p = [], 1
    for _ in range(count):
        out.append(p)
        p = (p * int(_MULT)) & 0xFFFFFFFFFFFFFFFF
    return np.array(out, dtype=np.uint64)


def _segment_hashes(
    values: np.ndarray, starts: np.ndarray, ends: np.ndarray, seeds: np.ndarray
) -> np.ndarray:
    """``seed * M^len + sum(v_j * M^(len-1-j))`` over each non-empty segment ``values[start:end]``:
    what the n-gram loop in :func:`_ngrams` computes for a window of that length, for all
    segments in one pass."""
    lengths = ends - starts
    first = np.r_[0, np.cumsum(lengths)[:-1]]  # where each segment starts in the gathered array
    index = np.arange(lengths.sum()) + np.repeat(starts - first, lengths)
    from_end = np.repeat(ends, lengths) - 1 - index
    powers = _powers(int(lengths.max()) + 1)
    h = np.add.reduceat(values[index] * powers[from_end], first)
    return h + seeds.astype(np.uint64) * powers[lengths]


def _ngrams(values: np.ndarray, owner: np.ndarray, n: int, num_docs: int) -> Shingles:
    """Hashed n-grams of each document's values; a document with fewer than ``n`` values gets
    one hash of all of them, a document with none gets none."""
    hashes, owners = [np.empty(0, np.uint64)], [np.empty(0, np.int64)]
    count = len(values) - n + 1
    if count > 0:
        h = np.full(count, n, dtype=np.uint64)  # seeded with the length, as short documents are
        for k in range(n):
            h *= _MULT
            h += values[k : k + count]
        inside = owner[:count] == owner[n - 1 :]  # the window does not cross into the next document
        hashes.append(h[inside])
        owners.append(owner[:count][inside])
    per_doc = np.bincount(owner, minlength=num_docs)
    short = np.flatnonzero((per_doc > 0) & (per_doc < n))
    if len(short):
        starts = np.searchsorted(owner, short)
        ends = starts + per_doc[short]
        hashes.append(_segment_hashes(values, starts, ends, per_doc[short]))
        owners.append(short.astype(np.int64))
    h, o = np.concatenate(hashes), np.concatenate(owners)
    if len(short):
        order = np.argsort(o, kind="stable")
        h, o = h[order], o[order]
    h ^= h >> np.uint64(31)
    h *= _MULT
    return Shingles((h >> np.uint64(32)).astype(np.uint32), o)


def char_shingles(texts: list[str], n: int) -> Shingles:
    """Hashed character n-grams of each normalized text.

    >>> s = char_shingles(["症例は70歳、男性。", "男性", "。 、"], 5)
    >>> len(s.of(0)), len(s.of(1)), len(s.of(2))  # 8 chars → 4 5-grams; short: one; empty: none
    (4, 1, 0)
    >>> bool(char_shingles(["男性"], 5).of(0)[0] == s.of(1)[0])  # the same whatever the batch
    True
    """
    cps, owner = _normalized_batch(texts)
    return _ngrams(cps.astype(np.uint64), owner, n, len(texts))


_TOKEN_SEPARATOR = "\ue000"  # private use (category Co): kept by the code point table


def token_shingles(token_lists: list[list[str]], n: int) -> Shingles:
    """Hashed n-grams of each document's word tokens (MeCab's): each token normalized like the
    text, tokens that normalize to nothing (punctuation, spaces) left out.

    >>> s = token_shingles([["症例", "は", "70", "歳", "、", "男性", "。"], ["男性"]], 3)
    >>> len(s.of(0)), len(s.of(1))  # 5 words → 3 trigrams; one word → one shingle
    (3, 1)
    """
    flat = [t for tokens in token_lists for t in tokens]
    if not flat:
        return Shingles(np.empty(0, np.uint32), np.empty(0, np.int64))
    # a separator before every token: token i's code points follow the (i+1)-th separator
    cps, _ = _normalized_batch([_TOKEN_SEPARATOR + _TOKEN_SEPARATOR.join(flat)])
    is_sep = cps == ord(_TOKEN_SEPARATOR)
    token_of = np.cumsum(is_sep)[~is_sep] - 1
    chars = cps[~is_sep].astype(np.uint64)
    if len(chars) == 0:
        return Shingles(np.empty(0, np.uint32), np.empty(0, np.int64))
    starts = np.flatnonzero(np.r_[True, token_of[1:] != token_of[:-1]])
    ends = np.r_[starts[1:], len(chars)]
    words = _segment_hashes(chars, starts, ends, np.zeros(len(starts), dtype=np.uint64))
    words ^= words >> np.uint64(29)  # mix: the n-gram hash over words must not be linear in code points
    words *= _MULT
    doc_of_token = np.repeat(np.arange(len(token_lists), dtype=np.int64), [len(t) for t in token_lists])
    return _ngrams(words, doc_of_token[token_of[starts]], n, len(token_lists))
