"""Global steps: steps that must see the whole corpus before they can decide about a document
(exact and near-duplicate dedup, repeated boilerplate lines, repeated ids).

A global step owns its whole lifecycle, in three methods of :class:`GlobalStep`:

1. ``collector(unit_dir, n_buckets)``, in every per-unit task: sees each surviving document and
   writes what the stage needs into the unit directory (hashes, signatures, line keys), usually
   partitioned into ``n_buckets`` files.
2. ``run_stage(name, corpus, n_buckets, work, run)``, once, in the build driver after the
   per-unit stage: fans its tasks out with ``run`` and returns a :class:`StageResult`. A dedup
   stage writes a *dups* table (``unit, row, kept_id, cluster, signals`` for every document it
   removes) under ``dups_dir``; later stages never see those documents.
3. ``apply(table, stage, unit)``, in each unit's publish task: takes the unit's kept documents
   and returns what is left, the :class:`Removal` to publish under ``removed/<step>/``, and
   counts for the manifest. The default drops the rows of the dups table. Stages that decided
   before publishing (a dups table) apply first, in recipe order, then those that decide at
   publish (boilerplate lines), so a publish-time decision sees what every dedup left, as
   each stage did when it ran.

Stages run in recipe order. Documents are numbered over the whole corpus by a *global index*:
unit ``u``'s row ``r`` is ``base[u] + r``, ``base`` being the running count of surviving
documents in unit order.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute
import pyarrow.parquet as pq
from datatrove.pipeline.base import PipelineStep

from jmedcorpus.io.parquet import atomic_write_table

DUPS_SCHEMA = pa.schema(
    [
        ("unit", pa.int64()),
        ("row", pa.int64()),
        ("kept_id", pa.string()),
        ("cluster", pa.int64()),
        ("signals", pa.string()),
    ]
)
ROW = "__row"  # the unit's kept.parquet row of each document, present while ``apply`` runs

Runner = Callable[[Callable, list, str], dict]  # (task function, [(label, args)], stage) → results


@dataclass
class StageResult:
    """What one global stage produced, for ``apply`` and the manifest."""

    name: str
    step: GlobalStep
    dups_dir: str | None = None  # the dups table; None for a stage that removes nothing before publish
    details: dict = field(default_factory=dict)  # figures for the manifest
    data_dir: str | None = None  # anything else ``apply`` reads (boilerplate keys)


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

    def earlier_removed(self) -> np.ndarray:
        """Sorted global indices of the documents earlier stages removed (read once, in the
        driver, and handed to every bucket task)."""
        bases, position = self.bases, {u: i for i, (u, _) in enumerate(self.units)}
        out = [np.empty(0, dtype=np.int64)]
        for d in (s.dups_dir for s in self.earlier if s.dups_dir):
            t = read_dups(d)
            unit_pos = np.array([position[u] for u in t.column("unit").to_pylist()], dtype=np.int64)
            if len(unit_pos):
                out.append(bases[unit_pos] + t.column("row").to_numpy())
        return np.sort(np.concatenate(out))


class Removal(NamedTuple):
    """Documents a global step removed from one unit at publish, as ``removed/`` records."""

    rows: pa.Table  # the documents, every column as kept
    duplicate_of: pa.Array | pa.ChunkedArray  # kept id of each (null where none)
    cluster: pa.Array | pa.ChunkedArray  # cluster of each (null where none)
    signals: pa.Array | pa.ChunkedArray  # JSON of what the step measured on each


class GlobalStep(PipelineStep):
    """Base of the steps that run as a corpus-wide stage in ``jmedcorpus build`` (see the module
    docstring for the three methods). Subclasses set ``reason`` and implement ``run_stage``;
    they also keep datatrove's ``run`` for direct use on a stream."""

    type = "🫂 - DEDUP"
    is_global = True
    reason: str  # the one reason of what it removes
    reasons: tuple[str, ...] = ()  # set from ``reason``, as every step declares them

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "reason" in cls.__dict__:
            cls.reasons = (cls.reason,)

    def collector(self, unit_dir: str, n_buckets: int):
        """An object with ``add(row, doc, data)`` and ``close() -> dict`` (kept in the unit's
        result under ``global``), or None when the stage needs nothing per document."""
        return

    def run_stage(self, name: str, corpus: Corpus, n_buckets: int, work: str, run: Runner) -> StageResult:
        raise NotImplementedError

    def apply(self, table: pa.Table, stage: StageResult, unit: int) -> tuple[pa.Table, Removal | None, dict]:
        """Drop the rows of ``unit`` that the stage's dups table lists."""
        dups = read_dups(stage.dups_dir, unit) if stage.dups_dir else DUPS_SCHEMA.empty_table()
        # a row another stage's apply already took (a publish-time drop) is not removed twice
        dups = dups.filter(pa.compute.is_in(dups.column("row"), value_set=table.column(ROW).combine_chunks()))
        if not dups.num_rows:
            return table, None, {"removed": 0}
        gone = pa.compute.is_in(table.column(ROW), value_set=dups.column("row").combine_chunks())
        # dups are sorted by row, and so is the table: the removed rows line up with them
        removal = Removal(
            table.filter(gone), dups.column("kept_id"), dups.column("cluster"), dups.column("signals")
        )
        return table.filter(pa.compute.invert(gone)), removal, {"removed": dups.num_rows}


def read_dups(dups_dir: str, unit: int | None = None) -> pa.Table:
    """The dups of one stage (of one unit if given), sorted by row."""
    files = sorted(glob.glob(os.path.join(dups_dir, "dups-*.parquet")))
    if not files:
        return DUPS_SCHEMA.empty_table()
    filters = [("unit", "=", unit)] if unit is not None else None
    return pq.read_table(files, filters=filters, schema=DUPS_SCHEMA).sort_by(
        [("unit", "ascending"), ("row", "ascending")]
    )


def write_dups(rows: dict[str, list], path: str) -> None:
    atomic_write_table(pa.table(rows, schema=DUPS_SCHEMA), path, "none")


class UnitArrays:
    """Rows of per-unit array files (``minhash-sig.npy``, ``minhash-chars.npy``) for any global
    indices, memory-mapped: only the pages of the rows asked for are read."""

    def __init__(self, units: list[tuple[int, str]], bases: np.ndarray) -> None:
        self.units, self.bases = units, bases
        self.maps: dict[tuple[int, str], np.ndarray] = {}

    def unit_rows(self, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(position in ``units``, row) of each global index."""
        pos = np.searchsorted(self.bases, docs, side="right") - 1
        return pos, docs - self.bases[pos]

    def unit_index(self, pos: np.ndarray) -> np.ndarray:
        """Unit index of each position in ``units``."""
        return np.array([self.units[p][0] for p in pos], dtype=np.int64)

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

    def ids(self, docs: np.ndarray) -> list[str]:
        """Ids of documents ``docs``, reading only the id column of the units that have any."""
        pos, rows = self.unit_rows(docs)
        ids: list[str] = [""] * len(docs)
        for p in np.unique(pos):
            sel = np.flatnonzero(pos == p)
            path = os.path.join(self.units[p][1], "kept.parquet")
            column = pq.read_table(path, columns=["id"]).column("id")
            for i, value in zip(sel, column.take(pa.array(rows[sel])).to_pylist()):
                ids[i] = value
        return ids


def bucket_entries(
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


def bucket_calls(corpus: Corpus, n_buckets: int, *args) -> list[tuple[str, tuple]]:
    """One task per bucket over every unit: ``(bucket, units, bases, gone, *args)``."""
    units, bases, gone = corpus.units, corpus.bases, corpus.earlier_removed()
    return [(f"bucket-{b:04d}", (b, units, bases, gone, *args)) for b in range(n_buckets)]
