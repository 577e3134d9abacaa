"""The corpus-wide stages of global steps, run by the build driver after the per-unit stage.

Each dedup stage reads what its collector wrote into every unit directory and produces a *dups*
table: ``(unit, row, kept_id, cluster, signals)`` for every document it removes, saved under
``dups_dir``; the publish stage turns it into ``removed/<step>/`` and drops those rows from the
shards. Stages run in recipe order and a later stage never sees what an earlier one removed.

Every function named ``*_bucket`` or ``*_clusters`` is the body of one Ray task. Documents are
numbered over the whole corpus by a *global index*: unit ``u``'s row ``r`` is ``base[u] + r``,
``base`` being the running count of surviving documents in unit order.
"""

from __future__ import annotations

import glob
import json
import os
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from jmedcorpus.dedup.boilerplate import BoilerplateLines
from jmedcorpus.dedup.components import choose_keepers, components
from jmedcorpus.dedup.exact import ExactDedup, find_duplicates
from jmedcorpus.dedup.lsh import estimated_jaccard, verified_pairs
from jmedcorpus.dedup.minhash import MinhashDedup
from jmedcorpus.io.parquet import atomic_save_npy, atomic_write_table

DUPS_SCHEMA = pa.schema(
    [
        ("unit", pa.int64()),
        ("row", pa.int64()),
        ("kept_id", pa.string()),
        ("cluster", pa.int64()),
        ("signals", pa.string()),
    ]
)


@dataclass
class StageResult:
    """What one global stage removed, and figures for the manifest."""

    name: str
    reason: str
    dups_dir: str | None  # None for a stage that removes nothing before publishing
    removed: dict[int, int]  # unit index → documents removed
    details: dict = field(default_factory=dict)
    edit_step: object = None  # a step that edits documents at publish time (boilerplate_lines)
    keys_dir: str | None = None  # what it needs for that


@dataclass
class Corpus:
    """The per-unit results a global stage needs: unit index → directory, and document counts."""

    units: list[tuple[int, str]]  # (unit index, unit directory) in input order
    results: dict[int, dict]  # unit index → result.json of the unit
    earlier: list[StageResult]  # stages already run (their removals are invisible to later ones)

    @property
    def bases(self) -> np.ndarray:
        """Global index of each unit's row 0, in ``units`` order, plus the total at the end."""
        kept = [self.results[u]["kept"] for u, _ in self.units]
        return np.concatenate([[0], np.cumsum(kept)]).astype(np.int64)


Runner = Callable[[Callable, list, str], dict]  # (task function, [(label, args)], stage) → results


def read_dups(dups_dir: str, unit: int | None = None) -> pa.Table:
    """The dups of one stage (of one unit if given), sorted by row."""
    files = sorted(glob.glob(os.path.join(dups_dir, "dups-*.parquet")))
    if not files:
        return DUPS_SCHEMA.empty_table()
    filters = [("unit", "=", unit)] if unit is not None else None
    return pq.read_table(files, filters=filters, schema=DUPS_SCHEMA).sort_by(
        [("unit", "ascending"), ("row", "ascending")]
    )


def _write_dups(rows: dict[str, list], path: str) -> None:
    atomic_write_table(pa.table(rows, schema=DUPS_SCHEMA), path, "none")


def _counts(units: np.ndarray) -> dict[int, int]:
    values, counts = np.unique(units, return_counts=True)
    return {int(u): int(c) for u, c in zip(values, counts)}


# --- exact dedup -------------------------------------------------------------------------------
def exact_bucket(bucket: int, unit_dirs: list[tuple[int, str]], dups_dir: str) -> dict[int, int]:
    """Find the exact duplicates of one hash bucket; write them to ``dups_dir``; count per unit."""
    tables = []
    for index, unit_dir in unit_dirs:
        tables.append((index, pq.read_table(os.path.join(unit_dir, f"hashes-b{bucket:04d}.parquet"))))
    dups = find_duplicates(tables)
    _write_dups(
        {
            "unit": [u for u, _, _ in dups],
            "row": [r for _, r, _ in dups],
            "kept_id": [k for _, _, k in dups],
            "cluster": [None] * len(dups),
            "signals": ["{}"] * len(dups),
        },
        os.path.join(dups_dir, f"dups-b{bucket:04d}.parquet"),
    )
    return _counts(np.array([u for u, _, _ in dups], dtype=np.int64))


def run_exact(
    name: str, step: ExactDedup, corpus: Corpus, n_buckets: int, work: str, run: Runner
) -> StageResult:
    dups_dir = os.path.join(work, f"dups-{name}")
    calls = []
    for b in range(n_buckets):
        members = [(u, d) for u, d in corpus.units if b in corpus.results[u]["global"][name]["buckets"]]
        calls.append((f"bucket-{b:04d}", (b, members, dups_dir)))
    removed: dict[int, int] = {}
    for counts in run(exact_bucket, calls, name).values():
        for u, c in counts.items():
            removed[u] = removed.get(u, 0) + c
    return StageResult(name, step.reason, dups_dir, removed)


# --- near-duplicate dedup ----------------------------------------------------------------------
class _UnitArrays:
    """Rows of per-unit array files (``minhash-sig.npy``, ``minhash-chars.npy``) for any global
    indices, memory-mapped: only the pages of the rows asked for are read."""

    def __init__(self, units: list[tuple[int, str]], bases: np.ndarray) -> None:
        self.units, self.bases = units, bases
        self.maps: dict[int, np.ndarray] = {}

    def unit_rows(self, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(position in ``units``, row) of each global index."""
        pos = np.searchsorted(self.bases, docs, side="right") - 1
        return pos, docs - self.bases[pos]

    def _map(self, pos: int, name: str) -> np.ndarray:
        key = (pos, name)
        if key not in self.maps:
            self.maps[key] = np.load(os.path.join(self.units[pos][1], name), mmap_mode="r")
        return self.maps[key]

    def gather(self, docs: np.ndarray, name: str = "minhash-sig.npy") -> np.ndarray:
        """Rows of the per-unit array file ``name`` for global indices ``docs`` (non-empty)."""
        pos, rows = self.unit_rows(docs)
        out = None
        for p in np.unique(pos):
            sel = pos == p
            part = self._map(int(p), name)[rows[sel]]
            if out is None:
                out = np.empty((len(docs), *part.shape[1:]), dtype=part.dtype)
            out[sel] = part
        return out

    def __call__(self, docs: np.ndarray) -> np.ndarray:
        return self.gather(docs)


def _earlier_removed(corpus: Corpus) -> np.ndarray:
    """Sorted global indices of the documents earlier stages removed (read once, in the driver,
    and handed to every bucket task)."""
    units, bases = corpus.units, corpus.bases
    position = {u: i for i, (u, _) in enumerate(units)}
    out = [np.empty(0, dtype=np.int64)]
    for d in (s.dups_dir for s in corpus.earlier if s.dups_dir):
        t = read_dups(d)
        unit_pos = np.array([position[u] for u in t.column("unit").to_pylist()], dtype=np.int64)
        out.append(bases[unit_pos] + t.column("row").to_numpy() if len(unit_pos) else np.empty(0, np.int64))
    return np.sort(np.concatenate(out))


def _bucket_entries(
    name: str, units: list[tuple[int, str]], bases: np.ndarray, gone: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Keys and global indices of one bucket's ``(key, row)`` entries from every unit that wrote
    the file ``name``, without the documents in ``gone``."""
    keys, docs = [np.empty(0, np.uint64)], [np.empty(0, np.int64)]
    for pos, (_, unit_dir) in enumerate(units):
        path = os.path.join(unit_dir, name)
        if os.path.exists(path):
            entries = np.load(path)
            keys.append(entries["key"])
            docs.append(bases[pos] + entries["row"].astype(np.int64))
    keys, docs = np.concatenate(keys), np.concatenate(docs)
    if len(gone):
        alive = ~np.isin(docs, gone)
        keys, docs = keys[alive], docs[alive]
    return keys, docs


def minhash_bucket(
    bucket: int,
    units: list[tuple[int, str]],
    bases: np.ndarray,
    gone: np.ndarray,
    threshold: float | None,
    out_dir: str,
) -> dict:
    """Candidate pairs of one band-key bucket, verified; saved as ``edges-bNNNN.npy``."""
    keys, docs = _bucket_entries(f"minhash-bands-b{bucket:04d}.npy", units, bases, gone)
    pairs, candidates = verified_pairs(keys, docs, _UnitArrays(units, bases), threshold)
    atomic_save_npy(pairs, os.path.join(out_dir, f"edges-b{bucket:04d}.npy"))
    return {"entries": len(keys), "candidates": candidates, "pairs": len(pairs)}


def minhash_clusters(units: list[tuple[int, str]], bases: np.ndarray, edges_dir: str, dups_dir: str) -> dict:
    """Connected components of all verified pairs, the keep rule, and the dups table."""
    # measured, not estimated: every numpy array and Python object of the clustering (tracemalloc
    # sees numpy's allocations); Arrow is only used to read one unit's id column at a time
    tracemalloc.start()
    files = sorted(glob.glob(os.path.join(edges_dir, "edges-b*.npy")))
    edges = np.concatenate([np.load(f) for f in files] or [np.empty((0, 2), np.int64)])
    edges = np.unique(edges, axis=0) if len(edges) else edges  # a pair can match in several bands
    nodes, labels = components(edges)
    arrays = _UnitArrays(units, bases)
    chars = arrays.gather(nodes, "minhash-chars.npy") if len(nodes) else np.empty(0, np.int64)
    ids = _ids(units, arrays, nodes)
    clusters = choose_keepers(nodes, labels, chars, ids, edges)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    gone = clusters.removed
    doc, keeper = clusters.doc[gone], clusters.keeper[gone]
    similarity = estimated_jaccard(arrays(doc), arrays(keeper)) if len(doc) else np.empty(0)
    pos, rows = arrays.unit_rows(doc)
    unit_index = np.array([units[p][0] for p in pos], dtype=np.int64)
    _write_dups(
        {
            "unit": unit_index,
            "row": rows,
            "kept_id": [ids[i] for i in np.searchsorted(nodes, keeper).tolist()],
            "cluster": clusters.cluster[gone],
            "signals": [
                json.dumps({"near_duplicate_jaccard": round(float(j), 4), "cluster_size": int(s)})
                for j, s in zip(similarity, clusters.size[gone])
            ],
        },
        os.path.join(dups_dir, "dups-clusters.parquet"),
    )
    total = int(bases[-1])
    return {
        "removed": _counts(unit_index),
        "verified_pairs": len(edges),
        "clustered_documents": len(nodes),
        "clusters": int(labels.max() + 1) if len(labels) else 0,
        "components_peak_bytes": int(peak),
        "components_bytes_per_document": round(peak / max(total, 1), 2),
    }


def _ids(units: list[tuple[int, str]], arrays: _UnitArrays, nodes: np.ndarray) -> list[str]:
    """Ids of the clustered documents, reading only the id column of the units that have any."""
    pos, rows = arrays.unit_rows(nodes)
    ids: list[str] = [""] * len(nodes)
    for p in np.unique(pos):
        sel = np.flatnonzero(pos == p)
        column = pq.read_table(os.path.join(units[p][1], "kept.parquet"), columns=["id"]).column("id")
        for i, value in zip(sel, column.take(pa.array(rows[sel])).to_pylist()):
            ids[i] = value
    return ids


def run_minhash(
    name: str, step: MinhashDedup, corpus: Corpus, n_buckets: int, work: str, run: Runner
) -> StageResult:
    dups_dir, edges_dir = os.path.join(work, f"dups-{name}"), os.path.join(work, f"edges-{name}")
    bases = corpus.bases
    gone = _earlier_removed(corpus)
    threshold = step.threshold if step.verify else None
    calls = [
        (f"bucket-{b:04d}", (b, corpus.units, bases, gone, threshold, edges_dir)) for b in range(n_buckets)
    ]
    buckets = run(minhash_bucket, calls, f"{name} buckets")
    clusters = run(
        minhash_clusters, [("clusters", (corpus.units, bases, edges_dir, dups_dir))], f"{name} clusters"
    )
    info = clusters["clusters"]
    removed = {int(k): v for k, v in info.pop("removed").items()}
    details = {
        "bands": step.bands,
        "rows": step.rows,
        "band_entries": sum(b["entries"] for b in buckets.values()),
        "candidate_pairs": sum(b["candidates"] for b in buckets.values()),
        **info,
    }
    return StageResult(name, step.reason, dups_dir, removed, details)


# --- repeated boilerplate lines ----------------------------------------------------------------
def boilerplate_bucket(
    bucket: int,
    units: list[tuple[int, str]],
    bases: np.ndarray,
    gone: np.ndarray,
    min_documents: int,
    out_dir: str,
) -> dict:
    """Count in how many surviving documents each line key of one bucket occurs; save the keys
    that reach ``min_documents`` as ``boilerplate-keys-bNNNN.npy``."""
    keys, _ = _bucket_entries(f"boilerplate-b{bucket:04d}.npy", units, bases, gone)
    values, counts = np.unique(keys, return_counts=True)  # entries are unique per document
    frequent = counts >= min_documents
    atomic_save_npy(values[frequent], os.path.join(out_dir, f"boilerplate-keys-b{bucket:04d}.npy"))
    return {"lines": int(frequent.sum()), "occurrences": int(counts[frequent].sum())}


def run_boilerplate(name: str, step, corpus: Corpus, n_buckets: int, work: str, run: Runner) -> StageResult:
    keys_dir = os.path.join(work, f"keys-{name}")
    bases, gone = corpus.bases, _earlier_removed(corpus)
    calls = [
        (f"bucket-{b:04d}", (b, corpus.units, bases, gone, step.min_documents, keys_dir))
        for b in range(n_buckets)
    ]
    counted = run(boilerplate_bucket, calls, f"{name} buckets").values()
    details = {
        "boilerplate_lines": sum(c["lines"] for c in counted),
        "documents_with_them": sum(c["occurrences"] for c in counted),
    }
    return StageResult(name, step.reason, None, {}, details, edit_step=step, keys_dir=keys_dir)


STAGES = {ExactDedup: run_exact, MinhashDedup: run_minhash, BoilerplateLines: run_boilerplate}


# --- repeated ids (always run, after the recipe's global steps) -------------------------------
DUPLICATE_IDS = "duplicate_ids"  # the stage's name in removed/ and in the manifest's steps


def duplicate_ids(units: list[tuple[int, str]], bases: np.ndarray, gone: np.ndarray, dups_dir: str) -> dict:
    """Every surviving document whose id an earlier one (in input order) already has.

    Reads only the ``id`` column of each unit and groups with Arrow (C++), so 10 million ids
    take a few hundred MB in this one task, not a Python dict."""
    tables = []
    for pos, (_, unit_dir) in enumerate(units):
        ids = pq.read_table(os.path.join(unit_dir, "kept.parquet"), columns=["id"]).column("id")
        doc = np.arange(len(ids), dtype=np.int64) + bases[pos]
        tables.append(pa.table({"id": ids, "doc": doc}))
    table = pa.concat_tables(tables) if tables else pa.table({"id": pa.array([], pa.string()), "doc": []})
    if len(gone):
        table = table.filter(pa.array(~np.isin(table.column("doc").to_numpy(), gone)))
    first = table.group_by("id").aggregate([("doc", "min")])
    joined = table.join(first, "id").filter(
        pa.compute.not_equal(pa.compute.field("doc"), pa.compute.field("doc_min"))
    )
    doc = np.sort(joined.column("doc").to_numpy()) if joined.num_rows else np.empty(0, np.int64)
    arrays = _UnitArrays(units, bases)
    pos, rows = arrays.unit_rows(doc)
    unit_index = np.array([units[p][0] for p in pos], dtype=np.int64)
    _write_dups(
        {
            "unit": unit_index,
            "row": rows,
            "kept_id": _ids(units, arrays, doc) if len(doc) else [],
            "cluster": [None] * len(doc),
            "signals": ["{}"] * len(doc),
        },
        os.path.join(dups_dir, "dups-ids.parquet"),
    )
    return {
        "removed": _counts(unit_index),
        "repeated_ids": int(pa.compute.count_distinct(joined.column("id")).as_py()),
    }


def run_duplicate_ids(corpus: Corpus, work: str, run: Runner) -> StageResult:
    """Documents that reuse an id are removed (reason ``duplicate_id``, ``duplicate_of`` the id),
    the first in input order keeps it: output ids are unique, so a trainer or a join by id never
    mixes two documents. ``7`` and ``"7"`` are the same id (ids are strings)."""
    from jmedcorpus.constants import DUPLICATE_ID

    dups_dir = os.path.join(work, f"dups-{DUPLICATE_IDS}")
    found = run(
        duplicate_ids,
        [("ids", (corpus.units, corpus.bases, _earlier_removed(corpus), dups_dir))],
        DUPLICATE_IDS,
    )
    info = found["ids"]
    removed = {int(k): v for k, v in info["removed"].items()}
    return StageResult(DUPLICATE_IDS, DUPLICATE_ID, dups_dir, removed, {"repeated_ids": info["repeated_ids"]})
