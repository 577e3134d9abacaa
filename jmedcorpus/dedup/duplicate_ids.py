"""Repeated ids: the global stage every build runs last, after the recipe's global steps.

Documents that reuse an id are removed (reason ``duplicate_id``, ``duplicate_of`` the id); the
first in input order keeps it. Output ids are then unique, so a trainer or a join by id never
mixes two documents. ``7`` and ``"7"`` are the same id (ids are strings).
"""

from __future__ import annotations

import os
from typing import ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute
import pyarrow.parquet as pq

from jmedcorpus.constants import DUPLICATE_ID
from jmedcorpus.dedup.stage import Corpus, GlobalStep, Runner, StageResult, UnitArrays, write_dups

DUPLICATE_IDS = "duplicate_ids"  # the stage's name in removed/ and in the manifest's steps


class DuplicateIds(GlobalStep):
    """Drop every document whose id an earlier one (in input order) already has (reason
    ``duplicate_id``). Not a recipe step: ``jmedcorpus build`` always runs it last."""

    name = "repeated ids"
    signal_fields: ClassVar[dict[str, str]] = {}
    reason = DUPLICATE_ID

    def run_stage(self, name: str, corpus: Corpus, n_buckets: int, work: str, run: Runner) -> StageResult:
        dups_dir = os.path.join(work, f"dups-{name}")
        found = run(
            duplicate_ids, [("ids", (corpus.units, corpus.bases, corpus.earlier_removed(), dups_dir))], name
        )
        return StageResult(name, self, dups_dir, {"repeated_ids": found["ids"]})

    def run(self, data, rank: int = 0, world_size: int = 1):
        """Direct use as a datatrove step: the first document with each id passes."""
        seen: set[str] = set()
        for doc in data:
            self.stat_update("total")
            if str(doc.id) in seen:
                self.stat_update("dropped", f"dropped_{self.reason}")
                continue
            seen.add(str(doc.id))
            self.stat_update("forwarded")
            yield doc


def duplicate_ids(units: list[tuple[int, str]], bases: np.ndarray, gone: np.ndarray, dups_dir: str) -> int:
    """Write the dups table of the repeated ids; return how many ids repeat.

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
    arrays = UnitArrays(units, bases)
    pos, rows = arrays.unit_rows(doc)
    write_dups(
        {
            "unit": arrays.unit_index(pos),
            "row": rows,
            "kept_id": arrays.ids(doc) if len(doc) else [],
            "cluster": [None] * len(doc),
            "signals": ["{}"] * len(doc),
        },
        os.path.join(dups_dir, "dups-ids.parquet"),
    )
    return int(pa.compute.count_distinct(joined.column("id")).as_py())
