"""MinHash signatures equal datasketch's bit for bit; Jaccard estimates; LSH banding and band keys."""

import time

import numpy as np
import pytest
from conftest import DATA, read_jsonl
from datasketch import MinHash, MinHashLSH

from jmedcorpus.dedup import signatures as sigmod
from jmedcorpus.dedup.lsh import estimated_jaccard
from jmedcorpus.dedup.shingles import char_shingles
from jmedcorpus.dedup.signatures import BATCH_SHINGLES, band_keys, lsh_bands, permutations, signatures

N = 5
REPORTS = [
    r["text"] for r in read_jsonl(DATA / "case_reports_ja.jsonl") if not r["id"].startswith("medtxt-cr-ner")
]
QUESTIONS = [r["text"] for r in read_jsonl(DATA / "igakuqa_ja.jsonl")]
LONG = "\n".join(REPORTS) * 3  # ~37k shingles: spans several BATCH_SHINGLES batches
EMPTY = np.full(128, 0xFFFFFFFF, dtype=np.uint32)


def datasketch_signature(hashes: np.ndarray, num_perm: int = 128, seed: int = 1) -> np.ndarray:
    m = MinHash(num_perm=num_perm, seed=seed, hashfunc=lambda h: h)
    m.update_batch(hashes.tolist())
    return m.hashvalues


def test_long_document_spans_several_batches():
    """The long test document really crosses BATCH_SHINGLES boundaries (else the next test is weak)."""
    assert len(char_shingles([LONG], N).hashes) > 3 * BATCH_SHINGLES


@pytest.mark.parametrize(("num_perm", "seed"), [(128, 1), (64, 42)])
def test_bit_identical_to_datasketch(num_perm, seed):
    """Real reports, questions, a long document and empty/short ones mixed in one batch."""
    texts = ["", REPORTS[0], "。", LONG, *QUESTIONS, "男性", "", *REPORTS[1:5], ""]
    sh = char_shingles(texts, N)
    sigs = signatures(sh, len(texts), num_perm, seed)
    assert sigs.shape == (len(texts), num_perm) and sigs.dtype == np.uint32
    for i in range(len(texts)):
        expected = datasketch_signature(sh.of(i), num_perm, seed)
        assert expected.dtype == np.uint32
        assert np.array_equal(sigs[i], expected), f"document {i}"


def test_permutations_are_datasketchs():
    """(a, b) are datasketch's affine32 permutation parameters for this num_perm and seed."""
    for num_perm, seed in [(128, 1), (256, 42), (16, 0)]:
        a, b = permutations(num_perm, seed)
        ea, eb = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
        assert a.dtype == b.dtype == np.uint32
        assert np.array_equal(a, ea) and np.array_equal(b, eb)


@pytest.mark.parametrize("batch", [1, 7, 1000])
def test_result_does_not_depend_on_batch_size(monkeypatch, batch):
    """Documents straddling many internal batch boundaries get the same signatures."""
    texts = [*REPORTS[:4], "", "男性", *QUESTIONS]
    sh = char_shingles(texts, N)
    expected = signatures(sh, len(texts), 128, 1)
    monkeypatch.setattr(sigmod, "BATCH_SHINGLES", batch)
    assert np.array_equal(signatures(sh, len(texts), 128, 1), expected)


def test_signature_of_a_document_does_not_depend_on_its_batch():
    """Signing one document alone or among others gives the same signature."""
    texts = [REPORTS[2], *QUESTIONS, REPORTS[7]]
    together = signatures(char_shingles(texts, N), len(texts), 128, 1)
    for i, t in enumerate(texts):
        assert np.array_equal(together[i], signatures(char_shingles([t], N), 1, 128, 1)[0])


def test_empty_documents_get_all_ones():
    """No shingles → all 0xFFFFFFFF, as datasketch's empty MinHash; trailing empties too."""
    texts = ["", "、。", REPORTS[0], "", ""]
    sigs = signatures(char_shingles(texts, N), len(texts), 128, 1)
    for i in (0, 1, 3, 4):
        assert np.array_equal(sigs[i], EMPTY)
    assert np.array_equal(EMPTY, MinHash(num_perm=128, seed=1).hashvalues)
    assert not (sigs[2] == EMPTY).any()
    assert signatures(char_shingles([], N), 0, 128, 1).shape == (0, 128)


def _exact_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    sa, sb = set(a.tolist()), set(b.tolist())
    return len(sa & sb) / len(sa | sb)


@pytest.mark.parametrize("i", [0, 3, 8])
def test_estimated_jaccard_is_close_to_exact(i):
    """A report vs the same report minus one sentence: estimate within 0.1 of the exact Jaccard."""
    report = REPORTS[i]
    lines = report.split("\n")
    shorter = "\n".join(lines[:2] + lines[3:])
    other = REPORTS[(i + 1) % len(REPORTS)]
    sh = char_shingles([report, shorter, other], N)
    sigs = signatures(sh, 3, 128, 1)
    exact = _exact_jaccard(sh.of(0), sh.of(1))
    assert 0.6 < exact < 1.0
    est = estimated_jaccard(sigs[[0]], sigs[[1]])[0]
    assert abs(est - exact) < 0.1
    assert estimated_jaccard(sigs[[0]], sigs[[0]])[0] == 1.0
    assert estimated_jaccard(sigs[[0]], sigs[[2]])[0] < 0.2  # unrelated reports
    # datasketch's own estimate agrees
    m0 = MinHash(num_perm=128, seed=1, hashvalues=sigs[0], scheme="affine32")
    m1 = MinHash(num_perm=128, seed=1, hashvalues=sigs[1], scheme="affine32")
    assert m0.jaccard(m1) == pytest.approx(est)


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.8, 0.9])
@pytest.mark.parametrize("num_perm", [64, 128, 256])
def test_lsh_bands_match_datasketch(threshold, num_perm):
    """bands × rows fits in num_perm and equals MinHashLSH's own choice."""
    bands, rows = lsh_bands(threshold, num_perm)
    assert bands * rows <= num_perm and bands >= 1 and rows >= 1
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    assert (bands, rows) == (lsh.b, lsh.r)


def test_band_keys_of_identical_signatures_are_identical():
    """Equal signatures (exact copies in the data) → equal keys in every band."""
    texts = [r["text"] for r in read_jsonl(DATA / "case_reports_ja.jsonl")]
    sigs = signatures(char_shingles(texts, N), len(texts), 128, 1)
    bands, rows = lsh_bands(0.7, 128)
    keys = band_keys(sigs, bands, rows)
    assert keys.shape == (len(texts), bands) and keys.dtype == np.uint64
    ids = [r["id"] for r in read_jsonl(DATA / "case_reports_ja.jsonl")]
    for copy in ("0000", "0002"):
        a, b = ids.index(f"medtxt-cr-{copy}"), ids.index(f"medtxt-cr-ner-{copy}")
        assert np.array_equal(keys[a], keys[b])
    distinct = keys[: len(REPORTS)]
    assert len(np.unique(distinct)) == distinct.size  # no shared key between distinct reports


def test_band_index_is_mixed_into_keys():
    """Bands with identical values still get different keys, so buckets need no band column."""
    sig = np.tile(np.arange(9, dtype=np.uint32), 14)[None, :]  # every band holds 0..8
    keys = band_keys(sig, 14, 9)
    assert len(np.unique(keys)) == 14
    constant = np.full((1, 128), 7, dtype=np.uint32)
    assert len(np.unique(band_keys(constant, 14, 9))) == 14


def test_changing_one_value_changes_only_its_band():
    """One MinHash value changed → exactly that band's key changes; values past bands*rows are ignored."""
    sigs = signatures(char_shingles([REPORTS[0]], N), 1, 128, 1)
    bands, rows = lsh_bands(0.7, 128)
    base = band_keys(sigs, bands, rows)[0]
    for pos in (0, 8, 9, 50, bands * rows - 1):
        edited = sigs.copy()
        edited[0, pos] ^= 1
        changed = np.flatnonzero(band_keys(edited, bands, rows)[0] != base)
        assert changed.tolist() == [pos // rows]
    for pos in range(bands * rows, 128):
        edited = sigs.copy()
        edited[0, pos] ^= 1
        assert np.array_equal(band_keys(edited, bands, rows)[0], base)


def test_megabyte_document_matches_datasketch_and_is_fast():
    """~1.5 MB document (~160 internal batches): datasketch's signature of its shingle set, quickly."""
    big = "\n".join(REPORTS) * 125
    sh = char_shingles([big], N)
    t0 = time.perf_counter()
    sig = signatures(sh, 1, 128, 1)[0]
    elapsed = time.perf_counter() - t0
    assert elapsed < 5.0, f"signatures took {elapsed:.1f} s for {len(sh.hashes)} shingles"
    assert np.array_equal(sig, datasketch_signature(np.unique(sh.hashes)))  # a min: repeats change nothing


@pytest.mark.parametrize("num_perm", [16, 64, 128])
def test_lsh_bands_are_the_ones_datasketch_picks(num_perm):
    """Our exact quadrature chooses the (bands, rows) of datasketch's own search (scipy quad)."""
    from datasketch.lsh import _optimal_param

    for threshold in (0.1, 0.3, 0.5, 0.6, 0.65, 0.7, 0.8, 0.9):
        for weight in (0.1, 0.5, 0.9):
            expected = _optimal_param(threshold, num_perm, weight, 1 - weight)
            if expected[0] < 2:  # MinHashLSH refuses these
                with pytest.raises(ValueError, match="b < 2"):
                    lsh_bands(threshold, num_perm, weight)
            else:
                assert lsh_bands(threshold, num_perm, weight) == expected, (threshold, weight)


def test_settings_datasketch_refuses_are_refused():
    with pytest.raises(ValueError, match="b < 2"):
        lsh_bands(0.97, 16, 0.5)
