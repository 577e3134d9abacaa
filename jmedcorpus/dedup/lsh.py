"""LSH candidates within one bucket of band keys, verified by estimated Jaccard.

A bucket holds every ``(band key, document)`` entry whose key hashes to it, from the whole corpus:
documents sharing a key are candidates. Within a group of equal keys, every pair is emitted for
small groups; a large group (a template shared by thousands of documents) emits a star around one
member instead, so the edge count stays linear. The star's centre is the member with the
smallest signature, not the first in input order, so the edges (and the kept set) do not depend
on input order or on how the work was split.

Verification (optional, on by default) keeps a candidate pair only when the fraction of equal
MinHash values, an unbiased estimate of the Jaccard similarity, reaches the threshold: banding
lets through pairs below the threshold with the probability of its S-curve.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

ALL_PAIRS_MAX_GROUP = 8  # groups up to this size emit all pairs (28 at most); larger ones a star
VERIFY_CHUNK = 1 << 15  # pairs verified at a time: 2 × 32k signatures of 512 B = 32 MB


def candidate_pairs(
    keys: np.ndarray, docs: np.ndarray, signature_of: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """Unique candidate pairs ``(a, b)`` with ``a < b`` (global document indices), shape (E, 2).

    ``keys`` and ``docs`` are parallel arrays of band-key entries; ``signature_of(docs)`` returns
    the signatures of those documents (only called for members of large groups).

    >>> keys = np.array([7, 7, 7, 9, 9, 5], dtype=np.uint64)
    >>> docs = np.array([3, 1, 2, 1, 3, 4])
    >>> candidate_pairs(keys, docs, None).tolist()
    [[1, 2], [1, 3], [2, 3]]
    """
    if len(keys) < 2:
        return np.empty((0, 2), dtype=np.int64)
    order = np.lexsort((docs, keys))
    keys, docs = keys[order], docs[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    sizes = np.diff(np.r_[starts, len(keys)])
    pairs = []
    small = np.flatnonzero((sizes >= 2) & (sizes <= ALL_PAIRS_MAX_GROUP))
    for size in np.unique(sizes[small]):
        first = starts[small[sizes[small] == size]]
        i, j = np.triu_indices(size, k=1)
        pairs.append(np.stack([docs[first[:, None] + i].ravel(), docs[first[:, None] + j].ravel()], axis=1))
    for g in np.flatnonzero(sizes > ALL_PAIRS_MAX_GROUP):
        members = np.unique(docs[starts[g] : starts[g] + sizes[g]])
        sig = signature_of(members)
        centre = members[np.lexsort(sig.T[::-1])[0]]  # smallest signature, lexicographically
        others = members[members != centre]
        pairs.append(np.stack([np.full(len(others), centre), others], axis=1))
    if not pairs:
        return np.empty((0, 2), dtype=np.int64)
    edges = np.concatenate(pairs).astype(np.int64)
    edges = edges[edges[:, 0] != edges[:, 1]]
    return np.unique(np.sort(edges, axis=1), axis=0)


def estimated_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> np.ndarray:
    """Row-wise fraction of equal MinHash values (datasketch's ``MinHash.jaccard``)."""
    return (sig_a == sig_b).mean(axis=1)


def verified_pairs(
    keys: np.ndarray,
    docs: np.ndarray,
    signature_of: Callable[[np.ndarray], np.ndarray],
    threshold: float | None,
) -> tuple[np.ndarray, int]:
    """:func:`candidate_pairs`, then (unless ``threshold`` is None) only the pairs whose
    estimated Jaccard reaches ``threshold``; returns the pairs and the number of candidates."""
    pairs = candidate_pairs(keys, docs, signature_of)
    if threshold is None or not len(pairs):
        return pairs, len(pairs)
    similar = np.concatenate(
        [
            estimated_jaccard(signature_of(chunk[:, 0]), signature_of(chunk[:, 1])) >= threshold
            for chunk in np.array_split(pairs, -(-len(pairs) // VERIFY_CHUNK))
        ]
    )
    return pairs[similar], len(pairs)
