"""MinHash signatures and LSH band keys.

Signatures are datasketch's: the ``affine32`` scheme of ``datasketch.MinHash`` with its own
permutations (``MinHash(num_perm, seed).permutations``), so every signature equals, bit for bit,
``MinHash(num_perm, seed, hashfunc=lambda h: h).update_batch(shingles)`` (a test checks this) and
can be handed to datasketch (``LeanMinHash``, ``MinHashLSH``) as is. What differs is the batching:
datasketch builds one Python object per document and hashes one shingle per Python call, which
caps it at a few MB/s on short documents; here the shingles of many documents are permuted in one
numpy product and reduced per document with ``np.minimum.reduceat``.

Banding (``bands`` × ``rows`` = ``num_perm``) comes from datasketch's ``MinHashLSH`` parameter
choice for the threshold, which minimizes the weighted false-positive and false-negative areas
under the S-curve. Each band of a signature becomes one 64-bit key; two documents are candidates
when any band key is equal.
"""

from __future__ import annotations

import functools
import threading

import numpy as np

from jmedcorpus.dedup.shingles import Shingles

_FMIX = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35))
_EMPTY = np.uint32(0xFFFFFFFF)  # datasketch's empty value: a document without shingles
BATCH_SHINGLES = (
    1 << 13
)  # shingles per numpy product: 8k × 128 × 4 B = 4 MB stays in cache (measured fastest of 2k-32k)


@functools.cache
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's ``affine32`` permutation parameters ``(a, b)`` for ``num_perm`` and ``seed``:
    its ``MinHash._init_permutations``, drawn the same way here (odd ``a``, any ``b``, from
    ``RandomState(seed)``) because importing datasketch pulls in scipy.integrate and cost
    0.25 s of every build's start (a test compares the two)."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


@functools.cache
def lsh_bands(threshold: float, num_perm: int, false_positive_weight: float = 0.5) -> tuple[int, int]:
    """``(bands, rows)`` that datasketch's ``MinHashLSH`` picks for this threshold: of all
    ``bands × rows <= num_perm``, the one with the least weighted sum of the false-positive
    probability (the S-curve integrated below the threshold) and the false-negative one (above).

    datasketch integrates each of the ~600 pairs with ``scipy.integrate.quad``; the integrands
    are polynomials of degree ``bands × rows <= num_perm``, which Gauss-Legendre quadrature with
    ``num_perm // 2 + 1`` nodes integrates exactly, all pairs in one numpy expression (importing
    datasketch and running its search cost ~0.3 s a process). A test checks the choice against
    datasketch's over thresholds, sizes and weights.

    >>> lsh_bands(0.7, 128)
    (14, 9)
    """
    nodes, weights = np.polynomial.legendre.leggauss(num_perm // 2 + 1)
    pairs = np.array([(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)], float)
    bands, rows = pairs[:, :1], pairs[:, 1:]

    def integral(lo: float, hi: float, false_negative: bool) -> np.ndarray:
        s = (hi - lo) / 2 * nodes + (hi + lo) / 2  # the nodes mapped onto [lo, hi]
        candidate = 1 - (1 - s**rows) ** bands  # probability that a pair of similarity s is a candidate
        return (1 - candidate if false_negative else candidate) @ weights * (hi - lo) / 2

    error = integral(0.0, threshold, False) * false_positive_weight
    error += integral(threshold, 1.0, True) * (1.0 - false_positive_weight)
    b, r = pairs[int(np.argmin(error))]  # the first of equal errors, as datasketch's loop keeps it
    if b < 2:  # datasketch refuses these settings with this message; so do we
        raise ValueError("The number of bands are too small (b < 2)")
    return int(b), int(r)


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, as datasketch applies to every input hash."""
    s1, m1, s2, m2 = _FMIX
    h = h ^ (h >> s1)
    h *= m1
    h ^= h >> s2
    h *= m2
    return h ^ (h >> s1)


def signatures(shingles: Shingles, num_docs: int, num_perm: int, seed: int) -> np.ndarray:
    """One MinHash signature (uint32 × ``num_perm``) per document of the batch; all
    ``0xFFFFFFFF`` for a document without shingles (as datasketch's empty MinHash).

    The shingles are permuted ``BATCH_SHINGLES`` at a time, so memory stays bounded for a batch of
    tiny documents and for one huge document alike.
    """
    a, b = permutations(num_perm, seed)
    out = np.full((num_docs, num_perm), _EMPTY, dtype=np.uint32)
    flat, owner = _fmix32(shingles.hashes), shingles.owner
    buf = _product_buffer(num_perm)
    for lo in range(0, len(flat), BATCH_SHINGLES):
        hv, docs = flat[lo : lo + BATCH_SHINGLES], owner[lo : lo + BATCH_SHINGLES]
        # permutations × shingles: reducing along the contiguous axis is ~15x faster than along
        # the other (measured: 0.4 ms vs 7.7 ms per 32k shingles)
        phv = buf[:, : len(hv)]
        np.multiply(a[:, None], hv[None, :], out=phv)
        phv += b[:, None]
        starts = np.flatnonzero(np.r_[True, docs[1:] != docs[:-1]])
        rows = docs[starts]  # each document once per batch: plain fancy-index update is exact
        out[rows] = np.minimum(out[rows], np.minimum.reduceat(phv, starts, axis=1).T)
    return out


_BUFFERS = threading.local()


def _product_buffer(num_perm: int) -> np.ndarray:
    """This thread's ``(num_perm, BATCH_SHINGLES)`` scratch array for the permuted shingles.

    Reused across batches and calls: a fresh 4 MB product per batch is a fresh mapping from the
    allocator, page-faulted in on every batch, and made signing 3x slower in a build (0.09 s
    against 0.03 s for 1.9 MB of mixed documents)."""
    buf = getattr(_BUFFERS, "buf", None)
    if buf is None or buf.shape != (num_perm, BATCH_SHINGLES):
        buf = _BUFFERS.buf = np.empty((num_perm, BATCH_SHINGLES), dtype=np.uint32)
    return buf


def signed_rows(sigs: np.ndarray) -> np.ndarray:
    """Rows that have a signature (a document without shingles has only empty values and can
    match nothing)."""
    return np.flatnonzero((sigs != _EMPTY).any(axis=1))


def band_keys(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """64-bit key of each band of each signature, ``(documents, bands)``; the band index is mixed
    into the key, so keys of different bands never need to be told apart."""
    n = len(sigs)
    v = sigs[:, : bands * rows].reshape(n, bands, rows).astype(np.uint64)
    h = np.broadcast_to(
        np.arange(1, bands + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15), (n, bands)
    ).copy()
    for j in range(rows):
        h ^= v[:, :, j]
        h *= np.uint64(0xFF51AFD7ED558CCD)
        h ^= h >> np.uint64(33)
    return h
