"""Repetition: repeated character n-grams, and datatrove's Gopher repetition filter on MeCab words.

Origin: Gopher (Rae et al. 2021, table A1) via datatrove's ``GopherRepetitionFilter``; the Swallow
corpus (Okazaki et al. 2024) applies the same fractions to characters, FineWeb-2 re-tunes them per
language. Recalibrated for medicine: licensing-exam option lists legitimately repeat long phrases
("妊娠12週の間接クームス試験(−)" in all five options, 50% of the characters), case reports repeat
units and test names, and published corpora carry a few passages twice. Defaults were raised until
no Japanese calibration document was dropped (``bench/calibrate_quality.py``); boilerplate repeated
many times (a line 20 times: ~95%) is still far above them.
"""

from collections import Counter
from itertools import accumulate, compress
from operator import and_
from typing import ClassVar

import numpy as np
from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter
from datatrove.pipeline.filters.gopher_repetition_filter import GopherRepetitionFilter, find_duplicates
from datatrove.utils.text import split_into_words

from jmedcorpus.constants import QUALITY_CHAR_NGRAM_REPETITION, QUALITY_REPETITION_PREFIX
from jmedcorpus.filters.validation import check_fraction
from jmedcorpus.registry import register_step
from jmedcorpus.text.charclass import WHITESPACE
from jmedcorpus.text.mecab import MecabWordTokenizer

META_CHAR_NGRAM_REPETITION = "char_ngram_repetition"


def _greedy_repeats(gram_at, positions, n: int, size) -> int:
    """datatrove's repeat scan (``find_all_duplicate``) restricted to ``positions``, the ascending
    positions whose n-gram occurs more than once: walking every position, an n-gram seen at an
    earlier visited position counts ``size(gram)`` and skips the next ``n - 1`` positions. The other
    positions hold n-grams that occur once: never seen before, and never looked up again once
    added, so leaving them out changes nothing."""
    seen: set[str] = set()
    repeated = skip_until = 0
    for p in positions:
        if p < skip_until:
            continue
        gram = gram_at(p)
        if gram in seen:
            repeated += size(gram)
            skip_until = p + n
        else:
            seen.add(gram)
    return repeated


_HASH_BASE = np.uint64(0x9E3779B97F4A7C15)
_POWERS = np.ones(1, dtype=np.uint64)


def _powers(k: int) -> np.ndarray:
    """_HASH_BASE ** 0 .. k-1 (mod 2**64); the first 64k are kept between documents."""
    global _POWERS
    if len(_POWERS) >= k:
        return _POWERS[:k]
    p = np.full(max(k, 2 * len(_POWERS)), _HASH_BASE, dtype=np.uint64)
    p[0] = 1
    p = np.cumprod(p, dtype=np.uint64)  # wraps mod 2**64, which is the point
    if len(p) <= 1 << 16:
        _POWERS = p
    return p[:k]


def char_ngram_repetition(text: str, n: int) -> float:
    """Share of non-space characters inside repeated character n-grams (Gopher's "duplicate n-gram
    character fraction", on characters; a repeat is counted once and skipped, as datatrove does).

    Vectorized: a polynomial hash (mod 2**64) of every window of ``n`` code points, in NumPy, finds
    the positions whose window may occur twice; most documents have none and are done there. The
    repeat scan then runs, on the strings themselves (a hash collision only adds a position to
    look at), over those positions alone. Same value as the scan over every position, ~3x faster
    (5 MB of Japanese: 0.43 -> 0.14 s).

    >>> char_ngram_repetition("胸水なし。" * 4, 5)
    0.75
    >>> char_ngram_repetition("", 5)
    0.0
    """
    chars = WHITESPACE.sub("", text)
    size = len(chars)
    windows = size - n + 1
    if windows <= 1:
        return 0.0
    codes = np.frombuffer(chars.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
    powers = _powers(size + 1)
    prefix = np.zeros(size + 1, dtype=np.uint64)
    np.cumsum(codes * powers[:size], out=prefix[1:])
    # window i: sum(codes[i + k] * B**(i + k)), times B**(size - i): sum(codes[i + k] * B**(size + k))
    hashes = (prefix[n:] - prefix[:-n]) * powers[size - windows + 1 :][::-1]
    ordered = np.sort(hashes)
    repeated = ordered[1:] == ordered[:-1]
    if not repeated.any():
        return 0.0
    positions = np.flatnonzero(np.isin(hashes, ordered[1:][repeated])).tolist()
    return _greedy_repeats(lambda p: chars[p : p + n], positions, n, lambda _: n) / size


@register_step("char_ngram_repetition")
class CharNgramRepetitionFilter(BaseFilter):
    """Drop documents in which repeated character n-grams cover too much of the text.

    Catches repetition that line-based checks miss (a phrase repeated without newlines, spinner
    spam, stuck OCR). Writes ``metadata["char_ngram_repetition"]``; reason
    ``QUALITY_CHAR_NGRAM_REPETITION``.

    Args:
        n: n-gram length in characters (5-100; default 20).
        max_ratio: highest repeated share kept, in [0, 1] (default 0.6; real maximum 0.50).
        exclusion_writer: optional writer for dropped documents.
    """

    name = "character n-gram repetition"
    reasons: ClassVar[tuple[str, ...]] = (QUALITY_CHAR_NGRAM_REPETITION,)
    signal_fields: ClassVar[dict[str, str]] = {META_CHAR_NGRAM_REPETITION: "float64"}
    signal_thresholds: ClassVar[tuple[tuple[str, str, str, str], ...]] = (
        ("char_ngram_repetition", "max", "max_ratio", ""),
    )

    def __init__(self, *, n: int = 20, max_ratio: float = 0.6, exclusion_writer=None) -> None:
        super().__init__(exclusion_writer)
        if not 5 <= n <= 100:
            raise ValueError(f"n must be in [5, 100], got {n}")
        check_fraction("max_ratio", max_ratio)
        self.n = n
        self.max_ratio = max_ratio

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        ratio = doc.metadata[META_CHAR_NGRAM_REPETITION] = char_ngram_repetition(doc.text, self.n)
        return ratio <= self.max_ratio or (False, QUALITY_CHAR_NGRAM_REPETITION)


TOP_NS = (2, 3, 4)
DUP_NS = (5, 6, 7, 8, 9, 10)
_CHECKS = ["dup_para_frac", "dup_para_char_frac", "dup_line_frac", "dup_line_char_frac"]
_CHECKS += [f"top_{n}_gram" for n in TOP_NS] + [f"duplicated_{n}_n_grams" for n in DUP_NS]
#: metadata key of each check (datatrove's reason names, prefixed)
GOPHER_KEYS = {check: f"gopher_{check}" for check in _CHECKS}


def top_duplicate_chars_by_n(words: list[str], ns) -> dict[int, int]:
    """``{n: datatrove's find_top_duplicate(get_n_grams(words, n))}`` for each n of ``ns`` (0 when
    there are no n-grams): the characters of the most frequent word n-gram (``" ".join``) times its
    count, ties going to the n-gram seen first.

    Pruned, with the same result: an n-gram that occurs twice is made of words that occur twice and
    starts with an (n-1)-gram that occurs twice, so n-grams are counted only at the positions where
    that holds (on 5 MB of case reports and exam questions: 28% of the positions for 2-grams, 11%
    for 3-grams, 5% for 4-grams), in increasing order (the same first-seen order for ties). When no
    n-gram repeats the answer is the first n-gram, once. ~2.4x faster than counting every n-gram;
    words with a space inside (not MeCab's) fall back to counting every n-gram, where the pruning
    would not hold.

    >>> top_duplicate_chars_by_n(["a", "b", "a", "b", "a"], (2, 3, 4))
    {2: 6, 3: 10, 4: 7}
    """
    ns = sorted(set(ns))
    m = len(words)
    if not ns:
        return {}
    if ns[0] < 2 or " ".join(words).count(" ") != max(m - 1, 0):
        return {n: _top_duplicate_chars_all(words, n) for n in ns}
    out = dict.fromkeys(ns, 0)
    if m < ns[0]:
        return out
    counts = Counter(words)
    repeats = list(map((1).__lt__, map(counts.__getitem__, words)))
    positions = list(compress(range(m - 1), map(and_, repeats, repeats[1:])))
    keys = [f"{words[i]} {words[i + 1]}" for i in positions]
    for k in range(2, ns[-1] + 1):
        if m < k:
            break
        if k > 2:  # extend the k-1-grams that repeat by one word that repeats
            last = m - k
            kept = [
                (i, key)
                for i, key in zip(positions, keys)
                if i <= last and counts[key] > 1 and repeats[i + k - 1]
            ]
            positions = [i for i, _ in kept]
            keys = [f"{key} {words[i + k - 1]}" for i, key in kept]
        counts = Counter(keys)
        if k in out:
            gram, count = counts.most_common(1)[0] if counts else ("", 0)
            out[k] = len(gram) * count if count > 1 else len(" ".join(words[:k]))
    return out


def _top_duplicate_chars_all(words: list[str], n: int) -> int:
    if len(words) < n:
        return 0
    gram, count = Counter(map(" ".join, zip(*(words[i:] for i in range(n))))).most_common(1)[0]
    return len(gram) * count


def top_duplicate_chars(words: list[str], n: int) -> int:
    """datatrove's ``find_top_duplicate(get_n_grams(words, n))`` (0 when there are no n-grams):
    same n-gram strings, same tie-breaking (see :func:`top_duplicate_chars_by_n`).

    >>> top_duplicate_chars(["a", "b", "a", "b", "a"], 2)
    6
    """
    return top_duplicate_chars_by_n(words, (n,))[n]


def duplicated_ngram_chars(words: list[str], n: int) -> int:
    """datatrove's ``find_all_duplicate(words, n)`` (n-grams as ``"".join`` of the words: the
    characters of repeated n-grams, each repeat skipping the next n - 1 positions), with the
    n-grams sliced from one joined string and the repeat scan run only over the positions whose
    n-gram occurs more than once (none in most documents).

    >>> duplicated_ngram_chars(["ab", "c", "a", "bc", "x"], 2)
    3
    """
    windows = len(words) - n + 1
    if windows <= 0:
        return 0
    joined = "".join(words)
    offsets = list(accumulate(map(len, words), initial=0))
    grams = list(map(joined.__getitem__, map(slice, offsets[:windows], offsets[n:])))
    counts = Counter(grams)
    if len(counts) == windows:
        return 0
    positions = compress(range(windows), map((1).__lt__, map(counts.__getitem__, grams)))
    return _greedy_repeats(grams.__getitem__, positions, n, len)


@register_step("gopher_repetition")
class JaGopherRepetitionFilter(GopherRepetitionFilter):
    """datatrove's Gopher repetition filter with MeCab words and Japanese-medical thresholds.

    Same measures, order and reason names as the stock filter, each reason prefixed with
    ``QUALITY_REPETITION_PREFIX`` (``quality_repetition_dup_line_frac``,
    ``quality_repetition_top_2_gram``, ``quality_repetition_duplicated_5_n_grams``, and
    ``quality_repetition_empty`` for an empty text). All fractions are measured (no early exit)
    and written to ``metadata["gopher_<check>"]`` before deciding. A threshold of 0 disables its
    check (datatrove's convention for the line and paragraph checks; for the n-gram checks the
    stock filter has none, so pass it only the enabled ones when comparing).

    Args:
        dup_line_frac: duplicate lines / lines (Gopher 0.3).
        dup_para_frac: duplicate paragraphs / paragraphs (Gopher 0.3).
        dup_line_char_frac: characters in duplicate lines / characters (Gopher 0.2).
        dup_para_char_frac: characters in duplicate paragraphs / characters (Gopher 0.2).
        top_n_gram_fracs: for word 2-, 3-, 4-grams, most frequent n-gram's characters / characters
            (Gopher 0.20, 0.18, 0.16).
        dup_n_gram_fracs: for word 5- to 10-grams, characters in repeated n-grams / characters
            (Gopher 0.15 down to 0.10). Off (0) by default: ``char_ngram_repetition`` measures
            repeated spans on characters for a tenth of the cost (these six scans were 53% of a
            build's CPU time); when on, 0.7 keeps every real Japanese document (max seen 0.64).
            A check that is off is not measured and its signal is null.
        exclusion_writer: optional writer for dropped documents.
    """

    name = "Gopher repetition (MeCab words)"
    reasons: ClassVar[tuple[str, ...]] = tuple(QUALITY_REPETITION_PREFIX + c for c in ("empty", *_CHECKS))
    signal_fields: ClassVar[dict[str, str]] = {key: "float64" for key in GOPHER_KEYS.values()}
    signal_thresholds: ClassVar[tuple[tuple[str, str, str, str], ...]] = tuple(
        [
            ("gopher_dup_line_frac", "max", "dup_line_frac", ""),
            ("gopher_dup_para_frac", "max", "dup_para_frac", ""),
            ("gopher_dup_line_char_frac", "max", "dup_line_char_frac", ""),
            ("gopher_dup_para_char_frac", "max", "dup_para_char_frac", ""),
        ]
        + [(f"gopher_top_{n}_gram", "max", f"top_n_gram_fracs[{i}]", "") for i, n in enumerate((2, 3, 4))]
        + [
            (f"gopher_duplicated_{n}_n_grams", "max", f"dup_n_gram_fracs[{i}]", "")
            for i, n in enumerate((5, 6, 7, 8, 9, 10))
        ]
    )

    def __init__(
        self,
        *,
        dup_line_frac: float = 0.6,
        dup_para_frac: float = 0.6,
        dup_line_char_frac: float = 0.5,
        dup_para_char_frac: float = 0.5,
        top_n_gram_fracs: list[float] = [0.5, 0.5, 0.5],  # noqa: B006 (never mutated)
        dup_n_gram_fracs: list[float] = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],  # noqa: B006
        exclusion_writer=None,
    ) -> None:
        fracs = {"dup_line_frac": dup_line_frac, "dup_para_frac": dup_para_frac}
        fracs |= {"dup_line_char_frac": dup_line_char_frac, "dup_para_char_frac": dup_para_char_frac}
        for key, value in fracs.items():
            check_fraction(key, value)
        for key, values, ns in (
            ("top_n_gram_fracs", top_n_gram_fracs, TOP_NS),
            ("dup_n_gram_fracs", dup_n_gram_fracs, DUP_NS),
        ):
            if len(values) != len(ns) or not all(0.0 <= v <= 1.0 for v in values):
                raise ValueError(
                    f"{key} must be {len(ns)} values in [0, 1] (for n = {ns[0]}..{ns[-1]}), got {values}"
                )
        super().__init__(
            **fracs,
            top_n_grams=tuple(zip(TOP_NS, top_n_gram_fracs)),
            dup_n_grams=tuple(zip(DUP_NS, dup_n_gram_fracs)),
            exclusion_writer=exclusion_writer,
            language=MecabWordTokenizer(),
        )
        self.thresholds = {**fracs} | {f"top_{n}_gram": f for n, f in self.top_n_grams}
        self.thresholds |= {f"duplicated_{n}_n_grams": f for n, f in self.dup_n_grams}

    def measure(self, text: str) -> dict[str, float]:
        """Every Gopher fraction of ``text`` (non-empty), keyed by check name, as datatrove computes it."""
        paragraphs = self.paragraph_exp.split(text.strip())
        para_dups, para_dup_chars = find_duplicates(paragraphs)
        lines = self._line_splitter.split(text)
        line_dups, line_dup_chars = find_duplicates(lines)
        signals = {
            "dup_para_frac": para_dups / len(paragraphs),
            "dup_para_char_frac": para_dup_chars / len(text),
        }
        signals |= {"dup_line_frac": line_dups / len(lines), "dup_line_char_frac": line_dup_chars / len(text)}
        words = split_into_words(text, self.language)
        tops = top_duplicate_chars_by_n(words, [n for n, frac in self.top_n_grams if frac])
        for n, frac in self.top_n_grams:
            signals[f"top_{n}_gram"] = tops[n] / len(text) if frac else None
        for n, frac in self.dup_n_grams:
            signals[f"duplicated_{n}_n_grams"] = (
                duplicated_ngram_chars(words, n) / len(text) if frac else None
            )
        return signals

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        if not doc.text:
            doc.metadata.update(dict.fromkeys(GOPHER_KEYS.values(), 0.0))
            return False, QUALITY_REPETITION_PREFIX + "empty"
        signals = self.measure(doc.text)
        doc.metadata.update(
            {GOPHER_KEYS[check]: None if v is None else float(v) for check, v in signals.items()}
        )
        for check in _CHECKS:
            if self.thresholds[check] and signals[check] > self.thresholds[check]:
                return False, QUALITY_REPETITION_PREFIX + check
        return True
