"""The ``exact_dedup`` step: drop documents whose normalized text already occurred.

Corpus-wide, not per shard. Each work unit hashes its surviving documents (BLAKE2b, 128 bits: a
collision among 10^12 documents has probability ~10^-15) and writes the hashes partitioned by
hash into buckets; one Ray task per bucket then finds repeated hashes with a numpy sort. Memory
per task is the bucket's share (~40 bytes per document plus ids), never one dict of the corpus.

Keep rule (deterministic, independent of worker count): within a group of identical texts, the
document first in input order survives; input order is the order of ``--input`` arguments, files
sorted by path, then byte offset or row (see :mod:`jmedcorpus.io.plan`). Every removed copy is
written to ``removed/exact_dedup/`` with ``duplicate_of`` set to the kept document's id.
"""

from __future__ import annotations

import hashlib
from typing import ClassVar

import numpy as np
import pyarrow as pa
from datatrove.pipeline.base import PipelineStep

from jmedcorpus.constants import DEDUP_EXACT_DUPLICATE
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
    in (unit, row) order.

    >>> t = lambda rows: pa.Table.from_pylist(rows, schema=HASH_SCHEMA)
    >>> a = t([{"h1": 1, "h2": 2, "row": 0, "id": "a0"}, {"h1": 5, "h2": 5, "row": 1, "id": "a1"}])
    >>> b = t([{"h1": 1, "h2": 2, "row": 0, "id": "b0"}])
    >>> find_duplicates([(1, b), (0, a)])
    [(1, 0, 'a0')]
    """
    tables = [(u, t) for u, t in tables if t.num_rows]
    if not tables:
        return []
    h1 = np.concatenate([t.column("h1").to_numpy() for _, t in tables])
    h2 = np.concatenate([t.column("h2").to_numpy() for _, t in tables])
    unit = np.concatenate([np.full(t.num_rows, u, dtype=np.int64) for u, t in tables])
    row = np.concatenate([t.column("row").to_numpy() for _, t in tables])
    order = np.lexsort((row, unit, h2, h1))  # last key sorts first: by hash, then input order
    h1, h2 = h1[order], h2[order]
    same_as_previous = np.zeros(len(order), dtype=bool)
    same_as_previous[1:] = (h1[1:] == h1[:-1]) & (h2[1:] == h2[:-1])
    if not same_as_previous.any():
        return []
    ids = pa.concat_arrays([t.column("id").combine_chunks() for _, t in tables])
    group_start = np.maximum.accumulate(np.where(~same_as_previous, np.arange(len(order)), 0))
    out = []
    for pos in np.flatnonzero(same_as_previous):
        first = order[group_start[pos]]
        out.append((int(unit[order[pos]]), int(row[order[pos]]), ids[int(first)].as_py()))
    return out


@register_step("exact_dedup")
class ExactDedup(PipelineStep):
    """Drop exact duplicates of the normalized text across the whole corpus (reason
    ``dedup_exact_duplicate``), keeping the first in input order.

    In ``jmedcorpus build`` this is a global stage (hash shuffle on Ray, see the module
    docstring). Run directly as a datatrove step, it deduplicates the stream it is given, with
    the same keep-first rule.
    """

    name = "exact dedup"
    type = "🫂 - DEDUP"
    is_global = True
    signal_fields: ClassVar[dict[str, str]] = {}
    reason = DEDUP_EXACT_DUPLICATE

    def __init__(self) -> None:
        super().__init__()

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
