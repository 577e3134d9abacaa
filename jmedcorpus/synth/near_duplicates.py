"""Near-duplicates among the accepted items (reason ``synth_duplicate``): estimated Jaccard
≥ 0.8 with an accepted item (character 5-gram MinHash).
"""

from __future__ import annotations

import numpy as np


class NearDuplicateIndex:
    """The items accepted so far, by MinHash signature; an item whose estimated Jaccard with one
    of them reaches ``threshold`` is a duplicate (reason ``synth_duplicate``).

    Signatures are the build's (:class:`~jmedcorpus.dedup.minhash.MinhashDedup`: character
    5-grams of the shingle-normalized text, 128 permutations), compared by brute force against
    all accepted signatures at once (numpy; 100,000 items × 512 bytes = 51 MB, a comparison in
    a few ms). Default 0.8, stricter than the build's 0.6: items made from one passage share
    its terms, and only a re-worded copy of the same question should be dropped.

    >>> index = NearDuplicateIndex()
    >>> index.offer("本症例で胆管炎の再増悪時に追加された薬剤はどれか。\\nPSL\\nUDCA\\nMMF\\nLVFX\\nCMZ")
    True
    >>> index.offer("本症例で胆管炎の再増悪時に追加された薬剤はどれか。\\nPSL\\nUDCA\\nMMF\\nLVFX\\nCMZ。")
    False
    """

    def __init__(self, threshold: float = 0.8, *, n: int = 5, num_perm: int = 128, seed: int = 1) -> None:
        from jmedcorpus.dedup.minhash import MinhashDedup

        self.threshold = threshold
        self._minhash = MinhashDedup(threshold=threshold, n=n, num_perm=num_perm, seed=seed)
        self._sigs = np.empty((64, num_perm), dtype=np.uint32)
        self._count = 0
        self._last: tuple[str, np.ndarray] | None = None

    def __len__(self) -> int:
        return self._count

    def signature(self, text: str) -> np.ndarray:
        """The MinHash signature of ``text`` (the last one is remembered)."""
        if self._last is None or self._last[0] != text:
            sig = self._minhash.sign([self._minhash.prepare(text)])[0]
            self._last = (text, sig)
        return self._last[1]

    def max_similarity(self, text: str) -> float:
        """Highest estimated Jaccard with an accepted item (0 when none, or no shingles)."""
        from jmedcorpus.dedup.lsh import estimated_jaccard

        sig = self.signature(text)
        if not self._count or (sig == np.uint32(0xFFFFFFFF)).all():
            return 0.0
        return float(estimated_jaccard(self._sigs[: self._count], sig[None, :]).max())

    def is_duplicate(self, text: str) -> bool:
        return self.max_similarity(text) >= self.threshold

    def add(self, text: str) -> None:
        """Remember an accepted item."""
        if self._count == len(self._sigs):
            self._sigs = np.concatenate([self._sigs, np.empty_like(self._sigs)])
        self._sigs[self._count] = self.signature(text)
        self._count += 1

    def offer(self, text: str) -> bool:
        """Add ``text`` unless it is a duplicate; whether it was added."""
        if self.is_duplicate(text):
            return False
        self.add(text)
        return True
