"""Near-duplicate clusters: connected components of the verified candidate graph, and the keep
rule that picks one document per cluster.

Memory is a few bytes per document, not a dictionary of the corpus: only documents that have at
least one edge become graph nodes (``np.unique`` of the edge list), and scipy's
``connected_components`` labels them from a sparse matrix. Everything is numpy arrays over the
global document index (int64); nothing is a Python object per document.

Keep rule, deterministic and independent of input order and worker count: in each cluster keep
the document with the most characters (the most complete version: a copy that lost a sentence or
its ending is shorter), then the smallest id (string order), then the smallest global index
(only if ids repeat). Cluster numbers follow the kept documents' ids, so they too are stable.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


class Clusters(NamedTuple):
    """Every document that is in a cluster, with its cluster's kept document."""

    doc: np.ndarray  # int64 global index of each clustered document
    keeper: np.ndarray  # int64 global index of the kept document of its cluster
    cluster: np.ndarray  # int64 cluster number (0.. in order of the kept documents' ids)
    size: np.ndarray  # int64 size of its cluster

    @property
    def removed(self) -> np.ndarray:
        """Mask over the rows: documents to remove (all but each cluster's keeper)."""
        return self.doc != self.keeper


def components(edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(nodes, labels)``: the documents that have an edge and their component labels.

    >>> nodes, labels = components(np.array([[5, 9], [9, 12], [20, 30]]))
    >>> nodes.tolist(), labels.tolist()
    ([5, 9, 12, 20, 30], [0, 0, 0, 1, 1])
    """
    if len(edges) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    nodes, local = np.unique(edges, return_inverse=True)
    local = local.reshape(edges.shape).astype(np.int32 if len(nodes) < 2**31 else np.int64)
    n = len(nodes)
    graph = coo_matrix((np.ones(len(local), dtype=np.int8), (local[:, 0], local[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return nodes, labels.astype(np.int64)


def choose_keepers(nodes: np.ndarray, labels: np.ndarray, chars: np.ndarray, ids: list[str]) -> Clusters:
    """Apply the keep rule to labelled nodes; ``chars`` and ``ids`` are per node.

    >>> c = choose_keepers(np.array([0, 1, 2]), np.array([0, 0, 0]), np.array([10, 12, 12]), ["c", "b", "a"])
    >>> c.keeper.tolist(), c.removed.tolist()  # 1 and 2 are longest; "a" < "b"
    ([2, 2, 2], [True, True, False])
    """
    if len(nodes) == 0:
        empty = np.empty(0, dtype=np.int64)
        return Clusters(empty, empty, empty, empty)
    table = pa.table(
        {
            "label": labels,
            "neg_chars": -chars.astype(np.int64),
            "id": pa.array(ids, pa.string()),
            "node": nodes,
        }
    )
    order = table.sort_by(
        [("label", "ascending"), ("neg_chars", "ascending"), ("id", "ascending"), ("node", "ascending")]
    )
    sorted_labels = order.column("label").to_numpy()
    sorted_nodes = order.column("node").to_numpy()
    first = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
    keeper_of_label = np.empty(labels.max() + 1, dtype=np.int64)
    keeper_of_label[sorted_labels[first]] = sorted_nodes[first]
    size_of_label = np.bincount(labels)
    # cluster numbers in order of the kept documents' ids
    keepers = pa.table({"id": order.column("id").take(pa.array(first)), "node": sorted_nodes[first]})
    by_id = pc.sort_indices(keepers, sort_keys=[("id", "ascending"), ("node", "ascending")]).to_numpy()
    number = np.empty(labels.max() + 1, dtype=np.int64)
    number[sorted_labels[first][by_id]] = np.arange(len(first))
    return Clusters(nodes, keeper_of_label[labels], number[labels], size_of_label[labels])
