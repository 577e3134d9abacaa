"""Near-duplicates among the accepted items (reason ``synth_duplicate``): estimated Jaccard
≥ 0.8 with an accepted item (character 5-gram MinHash).
"""

from __future__ import annotations

import numpy as np

# LSH banding of the 128 values: 32 bands of 4 rows. A pair at estimated Jaccard 0.8 shares no
# band with probability (1 - 0.8**4)**32 = 5e-8 (0.7: 1.5e-4), so the candidates hold every
# duplicate a brute-force comparison would find, while a pair at 0.3 is a candidate with
# probability 0.23 and at 0.1 with 0.003: few signatures need comparing.
ROWS = 4
# Items whose band keys wait in a dict before they are inserted into the sorted arrays: an
# insert copies the arrays (linear), so it is done once per this many items.
TAIL_ITEMS = 4096


class NearDuplicateIndex:
    """The items accepted so far, by MinHash signature; an item whose estimated Jaccard with one
    of them reaches ``threshold`` is a duplicate (reason ``synth_duplicate``).

    Signatures are the build's (:class:`~jmedcorpus.dedup.minhash.MinhashDedup`: character
    5-grams of the shingle-normalized text, 128 permutations). Candidates come from band keys
    (32 bands × 4 rows, see :data:`ROWS`), held in sorted numpy arrays plus a dict of the
    latest items (:data:`TAIL_ITEMS`) (8 bytes + 4 bytes per band per item: 100,000 items take
    38 MB of keys and 51 MB of signatures), and only candidates are compared. A brute-force comparison
    with every accepted signature cost 17 ms per item at 100,000 items (``bench/bench_synth.py``),
    as much as the generation itself at 60 prompts/s.

    Default 0.8, stricter than the build's 0.6: items made from one passage share its terms, and
    only a re-worded copy of the same question should be dropped.

    >>> index = NearDuplicateIndex()
    >>> index.offer("本症例で胆管炎の再増悪時に追加された薬剤はどれか。\\nPSL\\nUDCA\\nMMF\\nLVFX\\nCMZ")
    True
    >>> index.offer("本症例で胆管炎の再増悪時に追加された薬剤はどれか。\\nPSL\\nUDCA\\nMMF\\nLVFX\\nCMZ。")
    False
    """

    def __init__(self, threshold: float = 0.8, *, n: int = 5, num_perm: int = 128, seed: int = 1) -> None:
        from jmedcorpus.dedup.minhash import MinhashDedup

        if num_perm % ROWS:
            raise ValueError(f"num_perm must be a multiple of {ROWS}, got {num_perm}")
        self.threshold = threshold
        self.bands = num_perm // ROWS
        self._minhash = MinhashDedup(threshold=threshold, n=n, num_perm=num_perm, seed=seed)
        self._sigs = np.empty((64, num_perm), dtype=np.uint32)
        self._count = 0
        self._last: tuple[str, np.ndarray, np.ndarray] | None = None
        self._keys = np.empty(0, dtype=np.uint64)  # sorted band keys of the merged items
        self._owners = np.empty(0, dtype=np.int32)  # the item of each key
        self._tail: dict[int, list[int]] = {}  # band key -> items, for items added since the last merge
        self._tail_start = 0

    def __len__(self) -> int:
        return self._count

    def _signed(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Signature and band keys of ``text`` (the last text's are remembered)."""
        from jmedcorpus.dedup.signatures import band_keys

        if self._last is None or self._last[0] != text:
            sig = self._minhash.sign([self._minhash.prepare(text)])[0]
            self._last = (text, sig, band_keys(sig[None, :], self.bands, ROWS)[0])
        return self._last[1], self._last[2]

    def signature(self, text: str) -> np.ndarray:
        """The MinHash signature of ``text``."""
        return self._signed(text)[0]

    def _candidates(self, keys: np.ndarray) -> np.ndarray:
        lo = np.searchsorted(self._keys, keys, side="left")
        hi = np.searchsorted(self._keys, keys, side="right")
        found = [self._owners[a:b] for a, b in zip(lo, hi) if b > a]
        tail = [i for k in keys.tolist() for i in self._tail.get(k, ())]
        if tail:
            found.append(np.array(tail, dtype=np.int32))
        return np.unique(np.concatenate(found)) if found else np.empty(0, dtype=np.int32)

    def max_similarity(self, text: str) -> float:
        """Highest estimated Jaccard with an accepted item sharing a band (0 when none, or when
        ``text`` has no shingles)."""
        from jmedcorpus.dedup.lsh import estimated_jaccard

        sig, keys = self._signed(text)
        if not self._count or (sig == np.uint32(0xFFFFFFFF)).all():
            return 0.0
        candidates = self._candidates(keys)
        if not len(candidates):
            return 0.0
        return float(estimated_jaccard(self._sigs[candidates], sig[None, :]).max())

    def is_duplicate(self, text: str) -> bool:
        return self.max_similarity(text) >= self.threshold

    def add(self, text: str) -> None:
        """Remember an accepted item."""
        sig, keys = self._signed(text)
        if self._count == len(self._sigs):
            self._sigs = np.concatenate([self._sigs, np.empty_like(self._sigs)])
        self._sigs[self._count] = sig
        self._count += 1
        for k in keys.tolist():
            self._tail.setdefault(k, []).append(self._count - 1)
        if self._count - self._tail_start >= TAIL_ITEMS:
            self._merge()

    def _merge(self) -> None:
        """Move the tail into the sorted arrays: a linear insert of the sorted tail."""
        items = [(k, i) for k, owners in self._tail.items() for i in owners]
        keys = np.fromiter((k for k, _ in items), dtype=np.uint64, count=len(items))
        owners = np.fromiter((i for _, i in items), dtype=np.int32, count=len(items))
        order = np.argsort(keys, kind="stable")
        at = np.searchsorted(self._keys, keys[order])
        self._keys = np.insert(self._keys, at, keys[order])
        self._owners = np.insert(self._owners, at, owners[order])
        self._tail, self._tail_start = {}, self._count

    def offer(self, text: str) -> bool:
        """Add ``text`` unless it is a duplicate; whether it was added."""
        if self.is_duplicate(text):
            return False
        self.add(text)
        return True
