"""The ``exact_dedup`` step: drop documents whose normalized text already occurred.

Corpus-wide, not per shard. Each work unit hashes its surviving documents (BLAKE2b, 128 bits: a
collision among 10^12 documents has probability ~10^-15) and writes the hashes partitioned by
hash into buckets; one Ray task per bucket then finds repeated hashes with a numpy sort. Memory
per task is the bucket's share (~40 bytes per document plus ids), never one dict of the corpus.

Keep rule (deterministic, independent of worker count and of input order): within a group of
identical texts, the document with the smallest id (string order) survives; only if ids repeat
does input order decide (the order of ``--input`` arguments, files sorted by path, then byte
offset or row, see :mod:`jmedcorpus.io.plan`). Every removed copy is written to
``removed/exact_dedup/`` with ``duplicate_of`` set to the kept document's id.
"""

from __future__ import annotations

import hashlib
import os
from typing import ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute
import pyarrow.parquet as pq

from jmedcorpus.constants import DEDUP_EXACT_DUPLICATE
from jmedcorpus.dedup.stage import Corpus, GlobalStep, Runner, StageResult, write_dups
from jmedcorpus.io.parquet import atomic_write_table
from jmedcorpus.registry import register_step

HASH_SCHEMA = pa.schema([("h1", pa.uint64()), ("h2", pa.uint64()), ("row", pa.int64()), ("id", pa.string())])


def text_hash(text: str) -> tuple[int, int]:
    """128-bit BLAKE2b of the UTF-8 text as two unsigned 64-bit halves."""
    return bytes_hash(text.encode("utf-8", "surrogatepass"))


def bytes_hash(data: bytes) -> tuple[int, int]:
    """:func:`text_hash` of already-encoded text (callers that also need the byte size)."""
    digest = hashlib.blake2b(data, digest_size=16).digest()
    return int.from_bytes(digest[:8], "little"), int.from_bytes(digest[8:], "little")


def find_duplicates(tables: list[tuple[int, pa.Table]]) -> list[tuple[int, int, str]]:
    """Duplicates among ``(unit index, hash table)`` pairs of one bucket.

    Returns ``(unit, row, kept_id)`` for every document that is not the first of its hash group
    in (id, unit, row) order.

    >>> t = lambda rows: pa.Table.from_pylist(rows, schema=HASH_SCHEMA)
    >>> a = t([{"h1": 1, "h2": 2, "row": 0, "id": "b0"}, {"h1": 5, "h2": 5, "row": 1, "id": "a1"}])
    >>> b = t([{"h1": 1, "h2": 2, "row": 0, "id": "a0"}])
    >>> find_duplicates([(0, a), (1, b)])  # the smallest id is kept, wherever it comes in the input
    [(0, 0, 'a0')]
    """
    tables = [(u, t) for u, t in tables if t.num_rows]
    if not tables:
        return []
    table = pa.concat_tables(
        [t.append_column("unit", pa.array(np.full(t.num_rows, u, dtype=np.int64))) for u, t in tables]
    )
    keys = [(k, "ascending") for k in ("h1", "h2", "id", "unit", "row")]
    order = pa.compute.sort_indices(table, sort_keys=keys).to_numpy()
    h1, h2 = table.column("h1").to_numpy()[order], table.column("h2").to_numpy()[order]
    unit, row = table.column("unit").to_numpy(), table.column("row").to_numpy()
    same_as_previous = np.zeros(len(order), dtype=bool)
    same_as_previous[1:] = (h1[1:] == h1[:-1]) & (h2[1:] == h2[:-1])
    if not same_as_previous.any():
        return []
    ids = table.column("id").combine_chunks()
    group_start = np.maximum.accumulate(np.where(~same_as_previous, np.arange(len(order)), 0))
    out = []
    for pos in np.flatnonzero(same_as_previous):
        first = order[group_start[pos]]
        out.append((int(unit[order[pos]]), int(row[order[pos]]), ids[int(first)].as_py()))
    return out


def exact_bucket(bucket: int, unit_dirs: list[tuple[int, str, int]], gone: np.ndarray, dups_dir: str) -> int:
    """Find the exact duplicates of one hash bucket among the documents no earlier stage removed
    (``gone``: global indices; each unit comes with its base); write them to ``dups_dir``; count
    them."""
    tables = []
    for index, unit_dir, base in unit_dirs:
        table = pq.read_table(os.path.join(unit_dir, f"hashes-b{bucket:04d}.parquet"))
        if len(gone):
            alive = ~np.isin(table.column("row").to_numpy() + base, gone)
            table = table.filter(pa.array(alive))
        tables.append((index, table))
    dups = find_duplicates(tables)
    write_dups(
        {
            "unit": [u for u, _, _ in dups],
            "row": [r for _, r, _ in dups],
            "kept_id": [k for _, _, k in dups],
            "cluster": [None] * len(dups),
            "signals": ["{}"] * len(dups),
        },
        os.path.join(dups_dir, f"dups-b{bucket:04d}.parquet"),
    )
    return len(dups)


class ExactCollector:
    """Writes a unit's document hashes, partitioned by hash into ``hashes-bNNNN.parquet``."""

    def __init__(self, unit_dir: str, n_buckets: int) -> None:
        self.unit_dir, self.n_buckets = unit_dir, n_buckets
        self.buckets: dict[int, list[dict]] = {}

    def add(self, row: int, doc, data: bytes) -> None:
        h1, h2 = bytes_hash(data)
        self.buckets.setdefault(h1 % self.n_buckets, []).append(
            {"h1": h1, "h2": h2, "row": row, "id": doc.id}
        )

    def close(self) -> dict:
        for b, rows in self.buckets.items():
            atomic_write_table(
                pa.Table.from_pylist(rows, schema=HASH_SCHEMA),
                os.path.join(self.unit_dir, f"hashes-b{b:04d}.parquet"),
                "none",
            )
        return {"buckets": sorted(self.buckets)}


@register_step("exact_dedup")
class ExactDedup(GlobalStep):
    """Drop exact duplicates of the normalized text across the whole corpus (reason
    ``dedup_exact_duplicate``), keeping the smallest id.

    In ``jmedcorpus build`` this is a global stage (hash shuffle on Ray, see the module
    docstring). Run directly as a datatrove step, it deduplicates the stream it is given, with
    the first occurrence kept.
    """

    name = "exact dedup"
    signal_fields: ClassVar[dict[str, str]] = {}
    reason = DEDUP_EXACT_DUPLICATE

    def __init__(self) -> None:
        super().__init__()

    def collector(self, unit_dir: str, n_buckets: int) -> ExactCollector:
        """The per-unit part of the build: hashes by bucket."""
        return ExactCollector(unit_dir, n_buckets)

    def run_stage(self, name: str, corpus: Corpus, n_buckets: int, work: str, run: Runner) -> StageResult:
        """One task per hash bucket, over the units that wrote that bucket."""
        dups_dir = os.path.join(work, f"dups-{name}")
        bases, gone = corpus.bases, corpus.earlier_removed()
        calls = []
        for b in range(n_buckets):
            members = [
                (u, d, int(bases[pos]))
                for pos, (u, d) in enumerate(corpus.units)
                if b in corpus.results[u]["global"][name]["buckets"]
            ]
            calls.append((f"bucket-{b:04d}", (b, members, gone, dups_dir)))
        run(exact_bucket, calls, name)
        return StageResult(name, self, dups_dir)

    def run(self, data, rank: int = 0, world_size: int = 1):
        seen: set[tuple[int, int]] = set()
        for doc in data:
            self.stat_update("total")
            key = text_hash(doc.text)
            if key in seen:
                self.stat_update("dropped", f"dropped_{DEDUP_EXACT_DUPLICATE}")
                continue
            seen.add(key)
            self.stat_update("forwarded")
            yield doc
