"""``OUT/stats/stats.json``: written by the build, read by ``jmedcorpus stats``, or recomputed
from the output folder (older builds, ``--recompute``) with the same code."""

from __future__ import annotations

import glob
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq

from jmedcorpus.errors import UserError
from jmedcorpus.io import layout
from jmedcorpus.io.parquet import atomic_write_json
from jmedcorpus.report.stats import add_kept, add_removed, empty_partial, finalize, merge, term_sample_of

STATS_FILE = layout.STATS_FILE
_REMOVED_COLUMNS = ["id", "text", "source", "step", "reason", "cluster", "signals"]


def read_manifest(out: str) -> dict:
    path = os.path.join(out, layout.MANIFEST)
    if not os.path.isfile(path):
        raise UserError(
            f"{out}: no manifest.json; give the output directory of a finished `jmedcorpus build`"
        )
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def recompute(out: str, progress: bool = False) -> dict:
    """The stats of a build output, from ``data/`` and ``removed/`` (one partial per file)."""
    from tqdm import tqdm

    manifest = read_manifest(out)
    kept = sorted(glob.glob(os.path.join(out, layout.DATA, "*.parquet")))
    removed = sorted(glob.glob(os.path.join(out, layout.REMOVED, "*", "*.parquet")))
    parts = []
    for path in tqdm(kept + removed, desc="stats", unit="file", disable=not progress, leave=False):
        part = empty_partial()
        columns = None if path in kept else _REMOVED_COLUMNS
        # Row batches, not whole files: a 256 MB shard never sits in memory as Python objects.
        for batch in pq.ParquetFile(path).iter_batches(batch_size=4096, columns=columns):
            table = pa.Table.from_batches([batch])
            if path in kept:
                add_kept(part, table, term_sample_of(manifest))
            else:
                add_removed(part, table)
        parts.append(part)
    return finalize(merge(parts), manifest)


def write_stats(stats: dict, out: str) -> str:
    path = os.path.join(out, STATS_FILE)
    atomic_write_json(stats, path)
    return path


def load_stats(out: str, *, recompute_if_missing: bool = True, progress: bool = False) -> dict:
    """``OUT/stats/stats.json`` when the build wrote it, else recomputed (not saved)."""
    path = os.path.join(out, STATS_FILE)
    if os.path.isfile(path):
        read_manifest(out)  # an incomplete build has stats but no manifest: refuse it too
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    if not recompute_if_missing:
        raise UserError(f"{out}: no {STATS_FILE}; run `jmedcorpus stats {out} --recompute`")
    return recompute(out, progress=progress)
