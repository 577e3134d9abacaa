"""LSH candidate pairs: all pairs in small groups, an order-independent star in large ones."""

import numpy as np
import pytest
from conftest import DATA, read_jsonl

from jmedcorpus.dedup.lsh import ALL_PAIRS_MAX_GROUP, candidate_pairs, estimated_jaccard
from jmedcorpus.dedup.shingles import char_shingles
from jmedcorpus.dedup.signatures import band_keys, lsh_bands, signatures

CASES = read_jsonl(DATA / "case_reports_ja.jsonl")
TEXTS = [r["text"] for r in CASES] + [r["text"] for r in read_jsonl(DATA / "igakuqa_ja.jsonl")]
SIGS = signatures(char_shingles(TEXTS, 5), len(TEXTS), 128, 1)  # 20 docs, 2 exact copies
DISTINCT = [i for i, r in enumerate(CASES) if not r["id"].startswith("medtxt-cr-ner")] + list(
    range(len(CASES), len(TEXTS))
)  # 18 documents with pairwise different signatures


def no_signatures(docs):
    raise AssertionError("signature_of must only be called for groups larger than ALL_PAIRS_MAX_GROUP")


def as_set(pairs: np.ndarray) -> set[tuple[int, int]]:
    return {tuple(p) for p in pairs.tolist()}


def check_shape(pairs: np.ndarray) -> None:
    assert pairs.ndim == 2 and pairs.shape[1] == 2 and pairs.dtype == np.int64
    assert (pairs[:, 0] < pairs[:, 1]).all()
    assert len(as_set(pairs)) == len(pairs)
    assert pairs.tolist() == sorted(pairs.tolist())


@pytest.mark.parametrize("n", [0, 1])
def test_empty_and_single_entry(n):
    """No entries or one entry: no pairs, shape (0, 2)."""
    pairs = candidate_pairs(np.arange(n, dtype=np.uint64), np.arange(n), no_signatures)
    assert pairs.shape == (0, 2)


def test_no_shared_keys_no_pairs():
    """Distinct keys everywhere: no pairs."""
    pairs = candidate_pairs(np.arange(50, dtype=np.uint64), np.arange(50), no_signatures)
    assert pairs.shape == (0, 2)


@pytest.mark.parametrize("size", range(2, ALL_PAIRS_MAX_GROUP + 1))
def test_small_group_gives_all_pairs(size):
    """A group of up to ALL_PAIRS_MAX_GROUP documents gives every pair, signatures never asked."""
    docs = np.arange(100, 100 + size)[::-1]
    pairs = candidate_pairs(np.full(size, 42, dtype=np.uint64), docs, no_signatures)
    check_shape(pairs)
    assert as_set(pairs) == {(a, b) for a in docs for b in docs if a < b}


def test_pairs_are_unique_and_ordered_across_keys():
    """Documents sharing several keys (bands) give one pair (a < b); no self-pairs from repeats."""
    keys = np.array([5, 5, 9, 9, 9, 3, 3, 3, 3], dtype=np.uint64)
    docs = np.array([8, 2, 2, 8, 4, 4, 4, 2, 8])
    pairs = candidate_pairs(keys, docs, no_signatures)
    check_shape(pairs)
    assert pairs.tolist() == [[2, 4], [2, 8], [4, 8]]


def _star_group(members: np.ndarray):
    keys = np.full(len(members), 77, dtype=np.uint64)
    return keys, members


@pytest.mark.parametrize("size", [ALL_PAIRS_MAX_GROUP + 1, len(DISTINCT)])
def test_large_group_gives_star_around_smallest_signature(size):
    """Above ALL_PAIRS_MAX_GROUP: size-1 edges, all through the member with the smallest signature."""
    members = np.array(DISTINCT[:size])
    keys, docs = _star_group(members)
    pairs = candidate_pairs(keys, docs, lambda d: SIGS[d])
    check_shape(pairs)
    assert len(pairs) == size - 1
    smallest = min(members.tolist(), key=lambda d: SIGS[d].tolist())
    assert all(smallest in p for p in pairs.tolist())
    assert set(pairs.ravel().tolist()) == set(members.tolist())


def test_star_edge_count_is_linear():
    """A template shared by 5000 documents gives 4999 edges, not 12.5 million."""
    rng = np.random.default_rng(0)
    sigs = rng.integers(0, 2**32, size=(5000, 16), dtype=np.uint32)
    pairs = candidate_pairs(np.zeros(5000, dtype=np.uint64), np.arange(5000), lambda d: sigs[d])
    assert len(pairs) == 4999


@pytest.mark.parametrize("seed", range(5))
def test_pairs_do_not_depend_on_input_order(seed):
    """Permuting the (key, doc) entries, small and large groups mixed, gives the same pairs."""
    rng = np.random.default_rng(seed)
    big = np.array(DISTINCT)  # one key shared by 18 documents: a star
    keys = np.concatenate(
        [np.full(len(big), 1), np.full(3, 2), np.full(ALL_PAIRS_MAX_GROUP, 3), np.arange(10, 20)]
    ).astype(np.uint64)
    docs = np.concatenate([big, [0, 5, 19], np.array(DISTINCT[-ALL_PAIRS_MAX_GROUP:]), np.arange(10)])
    expected = candidate_pairs(keys, docs, lambda d: SIGS[d])
    order = rng.permutation(len(keys))
    assert np.array_equal(candidate_pairs(keys[order], docs[order], lambda d: SIGS[d]), expected)


@pytest.mark.parametrize("seed", range(5))
def test_star_centre_follows_the_document_not_its_index(seed):
    """Relabelling the documents (another input order) gives the relabelled star: same centre document."""
    rng = np.random.default_rng(seed)
    members = np.array(DISTINCT)
    keys, docs = _star_group(members)
    expected = as_set(candidate_pairs(keys, docs, lambda d: SIGS[d]))
    relabel = rng.permutation(1000)[: len(TEXTS)]  # old index → new global index
    sig_of_new = {int(relabel[i]): SIGS[i] for i in range(len(TEXTS))}
    got = candidate_pairs(keys, relabel[docs], lambda d: np.array([sig_of_new[int(x)] for x in d]))
    back = {int(relabel[i]): i for i in range(len(TEXTS))}
    assert {tuple(sorted((back[a], back[b]))) for a, b in got.tolist()} == expected


def test_real_band_keys_find_exact_and_near_copies():
    """Band keys of the real data plus a report missing one sentence: the two exact copies and the
    near copy are the only candidates."""
    report = TEXTS[3]
    lines = report.split("\n")
    near = "\n".join(lines[:2] + lines[3:])
    sigs = np.vstack([SIGS, signatures(char_shingles([near], 5), 1, 128, 1)])
    bands, rows = lsh_bands(0.7, 128)
    keys = band_keys(sigs, bands, rows)
    pairs = candidate_pairs(keys.ravel(), np.repeat(np.arange(len(sigs)), bands), lambda d: sigs[d])
    ids = [r["id"] for r in CASES]
    expected = {
        (ids.index("medtxt-cr-0000"), ids.index("medtxt-cr-ner-0000")),
        (ids.index("medtxt-cr-0002"), ids.index("medtxt-cr-ner-0002")),
        (3, len(TEXTS)),
    }
    assert as_set(pairs) == expected
    similarity = estimated_jaccard(sigs[pairs[:, 0]], sigs[pairs[:, 1]])
    low, *exact = sorted(similarity.tolist())
    assert low > 0.7 and exact == [1.0, 1.0]
