"""The one index of benchmark n-grams, used by the build's ``decontaminate`` step and by synth's
contamination check, with the hashing both share.

Text is NFKC-normalized, lower-cased and stripped of whitespace and punctuation (``TOKEN_STRIP``)
before character n-grams are taken, so width changes, inserted or removed spaces and newlines do
not change them; MeCab-token n-grams use ``benchmark_tokens`` (:mod:`jmedcorpus.text.exam`).
Each *unit* (character or token) is hashed to 64 bits and a window of ``n`` units to a polynomial
of those, the same in every process (unlike ``hash()``).

Index: sorted uint64 n-gram hashes with a parallel int32 array of entry numbers (an n-gram shared
by several items is stored once per item). Two questions can be asked of it:
:meth:`BenchmarkIndex.fractions`, the share of each *entry's* n-grams found in a text (does a
document contain a benchmark item? the ``decontaminate`` step), and :meth:`BenchmarkIndex.share`,
the share of a *text's* n-grams found in the benchmark (is a generated item a benchmark copy?
synth). A text's distinct n-grams are looked up with ``searchsorted`` and counted per entry with
``bincount``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np

from jmedcorpus.text.exam import TOKEN_STRIP

UNITS = ("char", "mecab")
_MULT = np.uint64(0x9E3779B97F4A7C15)


def normalize_for_match(text: str) -> str:
    """NFKC, lower case, no whitespace or punctuation.

    >>> normalize_for_match("ＣＲＰ　１５．２ｍｇ／ｄＬ、\\n正しいのは どれか。")
    'crp152mgdl正しいのはどれか'
    """
    return TOKEN_STRIP.sub("", unicodedata.normalize("NFKC", text).lower())


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finalizer: spreads small values (code points) over 64 bits."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def unit_hashes(text: str, unit: str) -> np.ndarray:
    """One uint64 per unit of the normalized text: characters, or MeCab tokens."""
    if unit == "mecab":
        import xxhash

        from jmedcorpus.text.exam import benchmark_tokens

        tokens = benchmark_tokens(text)
        return np.fromiter(
            (xxhash.xxh3_64_intdigest(t.encode("utf-8")) for t in tokens), dtype=np.uint64, count=len(tokens)
        )
    norm = normalize_for_match(text)
    with np.errstate(over="ignore"):
        return _mix(
            np.frombuffer(norm.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
        )


def window_hashes(units: np.ndarray, n: int) -> np.ndarray:
    """Hash of every window of ``n`` units (none when fewer): a polynomial over the unit hashes."""
    count = len(units) - n + 1
    if count <= 0:
        return np.empty(0, dtype=np.uint64)
    h = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(n):
            h = h * _MULT + units[k : k + count]
    return h ^ (h >> np.uint64(29))


@dataclass
class BenchmarkIndex:
    """N-gram hashes (sorted, repeated per entry) → entry; entry → item; n-grams per entry."""

    keys: np.ndarray  # uint64, sorted
    entries: np.ndarray  # int32, parallel to keys
    entry_item: np.ndarray  # int32: item of each entry
    entry_size: np.ndarray  # int64: distinct n-grams of each entry
    item_ids: list[str]
    n: int
    unit: str

    @classmethod
    def build(cls, items, *, n: int, unit: str, min_part_ngrams: int) -> BenchmarkIndex:
        keys, entries, entry_item, entry_size = [], [], [], []
        for i, item in enumerate(items):
            # the item as published; the stem alone; the n-grams within each option (none across
            # an option boundary: survives reordered or dropped options)
            parts = [np.unique(window_hashes(unit_hashes(item.text, unit), n))]
            if item.options:
                options = [window_hashes(unit_hashes(o, unit), n) for o in item.options]
                for part in (window_hashes(unit_hashes(item.stem, unit), n), np.concatenate(options)):
                    part = np.unique(part)
                    if len(part) >= min_part_ngrams:
                        parts.append(part)
            for grams in parts:
                if not len(grams):
                    continue
                keys.append(grams)
                entries.append(np.full(len(grams), len(entry_item), dtype=np.int32))
                entry_item.append(i)
                entry_size.append(len(grams))
        keys_a = np.concatenate(keys) if keys else np.empty(0, dtype=np.uint64)
        entries_a = np.concatenate(entries) if entries else np.empty(0, dtype=np.int32)
        order = np.argsort(keys_a, kind="stable")
        return cls(
            keys_a[order],
            entries_a[order],
            np.asarray(entry_item, dtype=np.int32),
            np.asarray(entry_size, dtype=np.int64),
            [item.id for item in items],
            n,
            unit,
        )

    @property
    def nbytes(self) -> int:
        return self.keys.nbytes + self.entries.nbytes + self.entry_item.nbytes + self.entry_size.nbytes

    def lookup(self, grams: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(position in ``grams``, entry) for every index hit of the given n-gram hashes."""
        lo = np.searchsorted(self.keys, grams, side="left")
        hi = np.searchsorted(self.keys, grams, side="right")
        counts = hi - lo
        hit = np.nonzero(counts)[0]
        if not len(hit):
            return hit, hit
        counts = counts[hit]
        pos = np.repeat(hit, counts)
        # index of each expanded hit in keys: lo of its gram + its rank within the gram's run
        starts = np.repeat(lo[hit] - np.cumsum(counts) + counts, counts)
        return pos, self.entries[starts + np.arange(len(pos))]

    def fractions(self, grams: np.ndarray) -> np.ndarray:
        """Share of each entry's distinct n-grams found among ``grams`` (repeats count once; only
        the few hits are de-duplicated, not the document's n-grams)."""
        pos, entries = self.lookup(grams)
        if len(pos):
            with np.errstate(over="ignore"):
                pair = grams[pos] ^ (entries.astype(np.uint64) * _MULT)
            _, first = np.unique(pair, return_index=True)
            entries = entries[first]
        return np.bincount(entries, minlength=len(self.entry_size)) / np.maximum(self.entry_size, 1)

    def share(self, grams: np.ndarray) -> float:
        """Share of ``grams`` (a text's n-gram hashes) found in the index (0 for none)."""
        if not len(grams) or not len(self.keys):
            return 0.0
        pos = np.minimum(np.searchsorted(self.keys, grams), len(self.keys) - 1)
        return float((self.keys[pos] == grams).mean())

    def text_grams(self, text: str) -> np.ndarray:
        """The n-gram hashes of ``text`` with this index's unit and ``n``."""
        return window_hashes(unit_hashes(text, self.unit), self.n)
