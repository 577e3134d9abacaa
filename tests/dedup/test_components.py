"""Connected components of candidate edges and the keep rule (most chars, smallest id, smallest
index), checked to be independent of the global indices (the input order)."""

import numpy as np
import pytest
from conftest import DATA, read_jsonl

from jmedcorpus.dedup.components import Clusters, choose_keepers, components

CASES = read_jsonl(DATA / "case_reports_ja.jsonl")


def cluster(edges, chars_of, id_of) -> Clusters:
    """components + choose_keepers with per-document chars and ids looked up by global index."""
    nodes, labels = components(np.asarray(edges, dtype=np.int64).reshape(-1, 2))
    return choose_keepers(
        nodes,
        labels,
        np.array([chars_of[n] for n in nodes]),
        [id_of[n] for n in nodes],
        np.asarray(edges).reshape(-1, 2),
    )


def by_id(c: Clusters, id_of) -> dict[str, tuple[str, int, int, bool]]:
    """Index-free view: id → (keeper id, cluster number, cluster size, removed)."""
    return {
        id_of[d]: (id_of[k], n, s, r)
        for d, k, n, s, r in zip(
            c.doc.tolist(), c.keeper.tolist(), c.cluster.tolist(), c.size.tolist(), c.removed.tolist()
        )
    }


def test_chain_is_one_component():
    """a-b and b-c (a and c never compared) end in one component; unrelated edges in another."""
    nodes, labels = components(np.array([[3, 7], [7, 11], [20, 30]]))
    assert nodes.tolist() == [3, 7, 11, 20, 30]
    assert labels[0] == labels[1] == labels[2] != labels[3] == labels[4]
    assert nodes.dtype == labels.dtype == np.int64


def test_long_chain_and_duplicate_reversed_edges():
    """A 1000-node path given in shuffled order with repeated and reversed edges: one component."""
    rng = np.random.default_rng(0)
    path = np.stack([np.arange(999), np.arange(1, 1000)], axis=1) * 1_000_003  # sparse global indices
    edges = np.concatenate([path, path[:, ::-1], path[:10]])
    nodes, labels = components(edges[rng.permutation(len(edges))])
    assert len(nodes) == 1000 and (labels == 0).all()


def test_empty_edges():
    """No edges: no nodes, and choose_keepers gives empty Clusters."""
    nodes, labels = components(np.empty((0, 2), dtype=np.int64))
    assert len(nodes) == len(labels) == 0
    c = choose_keepers(nodes, labels, np.empty(0, dtype=np.int64), [], np.empty((0, 2), dtype=np.int64))
    assert all(len(x) == 0 for x in c) and len(c.removed) == 0


def test_keep_most_chars_first():
    """The longest document is kept even when its id and index are the largest."""
    chars = {1: 900, 2: 920, 3: 919}
    ids = {1: "a", 2: "z", 3: "b"}
    c = cluster([[1, 2], [2, 3]], chars, ids)
    assert c.keeper.tolist() == [2, 2, 2]
    assert c.removed.tolist() == [True, False, True]
    assert c.size.tolist() == [3, 3, 3]


def test_keep_smallest_id_on_equal_chars():
    """Equal length: smallest id (string order, not index order) wins."""
    chars = {10: 920, 11: 920, 12: 500}
    ids = {10: "medtxt-cr-ner-0000", 11: "medtxt-cr-0000", 12: "a-short-one"}
    c = cluster([[10, 11], [11, 12]], chars, ids)
    assert set(c.keeper.tolist()) == {11}


def test_keep_smallest_index_on_equal_chars_and_ids():
    """Repeated ids and equal length: the smallest global index wins."""
    c = cluster([[9, 4], [4, 6]], {9: 5, 4: 5, 6: 5}, {9: "x", 4: "x", 6: "x"})
    assert set(c.keeper.tolist()) == {4}


def test_exact_copies_in_real_data():
    """The real pair medtxt-cr-0000 / medtxt-cr-ner-0000 (same text): the smaller id is kept."""
    ids = [r["id"] for r in CASES]
    chars = [len(r["text"]) for r in CASES]
    a, b = ids.index("medtxt-cr-0000"), ids.index("medtxt-cr-ner-0000")
    c2, d2 = ids.index("medtxt-cr-0002"), ids.index("medtxt-cr-ner-0002")
    c = cluster([[a, b], [c2, d2]], chars, ids)
    view = by_id(c, ids)
    assert view["medtxt-cr-ner-0000"] == ("medtxt-cr-0000", 0, 2, True)
    assert view["medtxt-cr-0000"] == ("medtxt-cr-0000", 0, 2, False)
    assert view["medtxt-cr-ner-0002"] == ("medtxt-cr-0002", 1, 2, True)
    assert int(c.removed.sum()) == 2


def test_cluster_numbers_follow_keeper_ids():
    """Cluster 0 is the one whose kept document has the smallest id, whatever the node order."""
    ids = {0: "d", 1: "e", 2: "b", 3: "c", 4: "a", 5: "f", 50: "zz", 51: "y"}
    chars = dict.fromkeys(ids, 10)
    c = cluster([[0, 1], [2, 3], [4, 5], [50, 51]], chars, ids)
    keeper_id = {n: ids[k] for n, k in zip(c.cluster.tolist(), c.keeper.tolist())}
    assert keeper_id == {0: "a", 1: "b", 2: "d", 3: "y"}


def _random_graph(rng, num_docs: int, num_edges: int):
    edges = rng.integers(0, num_docs, size=(num_edges, 2))
    edges = np.unique(np.sort(edges[edges[:, 0] != edges[:, 1]], axis=1), axis=0)
    chars = rng.integers(100, 104, size=num_docs)  # many ties on length
    ids = [f"doc-{rng.integers(0, 10**9):09d}-{i}" for i in range(num_docs)]  # unique, not index order
    return edges, chars, ids


@pytest.mark.parametrize("seed", range(4))
def test_result_does_not_depend_on_global_indices(seed):
    """Shuffled input order = relabelled nodes: same keeper ids, removed ids, cluster numbers, sizes."""
    rng = np.random.default_rng(seed)
    num_docs = 3000
    edges, chars, ids = _random_graph(rng, num_docs, 2500)
    expected = by_id(cluster(edges, chars, ids), ids)
    assert len({v[1] for v in expected.values()}) > 100  # many clusters
    assert any(v[2] > 3 for v in expected.values())  # some chains longer than a pair
    for _ in range(2):
        new = rng.permutation(num_docs)  # old index → new index
        inverse = np.argsort(new)
        new_edges = new[edges]
        new_edges = new_edges[rng.permutation(len(new_edges))]
        got = by_id(cluster(new_edges, chars[inverse], [ids[i] for i in inverse]), [ids[i] for i in inverse])
        assert got == expected


def test_cluster_numbers_are_dense_and_sizes_match():
    """Cluster numbers are 0..k-1 and size counts a component's rows; every removed document has
    an edge to its keeper, which is kept and at least as long; no edge joins two kept documents."""
    rng = np.random.default_rng(7)
    edges, chars, ids = _random_graph(rng, 500, 300)
    c = cluster(edges, chars, ids)
    k = len(np.unique(c.cluster))
    assert np.array_equal(np.unique(c.cluster), np.arange(k))
    assert np.array_equal(np.bincount(c.cluster)[c.cluster], c.size)
    kept = set(c.doc[~c.removed].tolist())
    pairs = {tuple(sorted(e)) for e in np.asarray(edges).reshape(-1, 2).tolist()}
    for d, k_ in zip(c.doc[c.removed].tolist(), c.keeper[c.removed].tolist()):
        assert k_ in kept and tuple(sorted((d, k_))) in pairs and chars[k_] >= chars[d]
    assert not any(a in kept and b in kept for a, b in pairs)


@pytest.mark.parametrize("seed", range(6))
def test_labels_match_scipy_connected_components(seed):
    """The numpy union equals scipy.sparse.csgraph.connected_components (what it replaced) on
    random sparse graphs: many small clusters, chains, stars and isolated edges."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    rng = np.random.default_rng(seed)
    n_nodes = int(rng.integers(2, 3000))
    edges = rng.integers(0, n_nodes, size=(int(rng.integers(1, 2 * n_nodes)), 2)) * 7 + 3
    nodes, labels = components(edges)
    local = np.searchsorted(nodes, edges)
    graph = coo_matrix((np.ones(len(local)), (local[:, 0], local[:, 1])), shape=(len(nodes),) * 2)
    _, expected = connected_components(graph, directed=False)
    assert labels.tolist() == expected.tolist()
