"""The publish stage, after the global stages: removed and quarantined records under their final
names, and the training shards. ``finalize_unit`` and ``write_shard`` are bodies of Ray tasks."""

from __future__ import annotations

import glob
import json
import math
import os

import numpy as np
import pyarrow as pa
import pyarrow.compute
import pyarrow.parquet as pq

from jmedcorpus.constants import META_MECAB_TOKENS
from jmedcorpus.dedup.stage import ROW, StageResult
from jmedcorpus.io import layout
from jmedcorpus.io.parquet import REMOVED_SCHEMA, atomic_write_table
from jmedcorpus.io.plan import WorkUnit
from jmedcorpus.report.stats import add_kept, add_removed, empty_partial


def line_offsets(units: list[WorkUnit], results: dict) -> dict[str, int]:
    """Lines before each unit in its file, to turn range-local line numbers into file lines."""
    offsets, seen = {}, {}
    for u in units:
        offsets[u.key] = seen.get(u.path, 0) if u.kind == "jsonl" else 0
        seen[u.path] = offsets[u.key] + results[u.key]["lines"]
    return offsets


def _publish_file(src: str, dst: str) -> None:
    """Hard-link (else copy) ``src`` to ``dst`` atomically."""
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    tmp = os.path.join(os.path.dirname(dst), f".{os.path.basename(dst)}.tmp-{os.getpid()}")
    try:
        os.link(src, tmp)
    except OSError:
        import shutil

        shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def _removed_table(kept: pa.Table, step: str, reason: str, duplicate_of, cluster, signals) -> pa.Table:
    n = kept.num_rows
    return pa.table(
        {
            "id": kept.column("id"),
            "text": kept.column("text"),
            "source": kept.column("source"),
            "step": pa.array([step] * n, pa.string()),
            "reason": pa.array([reason] * n, pa.string()),
            "detail": pa.array([None] * n, pa.string()),
            "duplicate_of": duplicate_of,
            "cluster": cluster,
            "signals": signals,
        },
        schema=REMOVED_SCHEMA,
    )


def finalize_unit(
    unit: WorkUnit,
    unit_dir: str,
    out: str,
    stages: list[StageResult],
    line_offset: int,
    compression: str,
    term_sample: int = 16,
) -> dict:
    """Publish one unit's removed and quarantined records and write ``final.parquet``: the kept
    documents, in input order, after every global stage's ``apply`` (dedup drops, boilerplate
    edits). Returns the published paths (relative to ``out``), the final counts and each stage's
    counts."""
    written = []
    stats = empty_partial()  # the unit's share of OUT/stats/stats.json, from the rows written here
    part = f"part-{unit.index:06d}.parquet"
    for path in sorted(glob.glob(os.path.join(unit_dir, "removed-*.parquet"))):
        step = os.path.basename(path)[len("removed-") : -len(".parquet")]
        rel = os.path.join(layout.REMOVED, step, part)
        _publish_file(path, os.path.join(out, rel))
        written.append(rel)
        add_removed(stats, pq.read_table(path))
    q = os.path.join(unit_dir, "quarantine.parquet")
    if os.path.exists(q):
        table = pq.read_table(q)
        if line_offset:
            lines = pa.compute.add(table.column("line"), line_offset)
            table = table.set_column(table.schema.get_field_index("line"), "line", lines)
        rel = os.path.join(layout.QUARANTINE, part)
        atomic_write_table(table, os.path.join(out, rel), compression)
        written.append(rel)

    table = pq.read_table(os.path.join(unit_dir, "kept.parquet"))
    table = table.append_column(ROW, pa.array(np.arange(table.num_rows, dtype=np.int64)))
    stage_counts = {}
    for stage in sorted(stages, key=lambda st: st.dups_dir is None):  # see dedup/stage.py, 3.
        table, removal, stage_counts[stage.name] = stage.step.apply(table, stage, unit.index)
        if removal is None or not removal.rows.num_rows:
            continue
        rows = removal.rows.drop_columns([ROW])
        removed = _removed_table(
            rows.select(["id", "text", "source"]),
            stage.name,
            stage.step.reason,
            removal.duplicate_of,
            removal.cluster,
            _with_document_signals(rows, removal.signals),
        )
        rel = os.path.join(layout.REMOVED, stage.name, part)
        atomic_write_table(removed, os.path.join(out, rel), compression)
        written.append(rel)
        add_removed(stats, removed)
    table = table.drop_columns([ROW])
    atomic_write_table(table, os.path.join(unit_dir, "final.parquet"), "none")
    add_kept(stats, table, term_sample)
    text_bytes = pa.compute.sum(pa.compute.binary_length(table.column("text"))).as_py() or 0
    return {
        "files": written,
        "kept": table.num_rows,
        "kept_bytes": int(text_bytes),
        "stages": stage_counts,
        "stats": stats,
    }


def _with_document_signals(rows: pa.Table, dedup_signals: pa.ChunkedArray) -> pa.Array:
    """The ``signals`` JSON of documents a dedup step removed: their signal columns (length,
    language, quality) plus what the dedup step measured, so that ``inspect`` and the stats see
    them like documents removed by a filter."""
    columns = [c for c in rows.column_names if c not in ("id", "text", "source")]
    values = rows.select(columns).to_pylist()
    return pa.array(
        [
            json.dumps({**v, **json.loads(d or "{}")}, ensure_ascii=False)
            for v, d in zip(values, dedup_signals.to_pylist())
        ],
        pa.string(),
    )


def plan_shards(units: list[WorkUnit], finalized: dict, unit_dirs: dict, shard_mb: float) -> list[dict]:
    """Cut the final documents, in input order, into shards of about ``shard_mb`` of text.

    Depends only on counts, never on the number of workers: the same input gives the same shards.
    """
    pieces, total_rows, total_bytes = [], 0, 0
    for u in units:
        n = finalized[u.key]["kept"]
        if n:
            pieces.append((u, total_rows, n))
            total_rows += n
            total_bytes += finalized[u.key]["kept_bytes"]
    # at most shard_mb each; a smaller corpus still gets up to 8 shards of >= 16 MB so
    # that they are written in parallel (one 256 MB shard was one 10-20 s task)
    n_shards = max(1, math.ceil(total_bytes / (shard_mb * (1 << 20))), min(8, total_bytes // (16 << 20)))
    n_shards = min(n_shards, max(total_rows, 1))
    plan = []
    for k in range(n_shards):
        lo, hi = k * total_rows // n_shards, (k + 1) * total_rows // n_shards
        slices = []
        for u, start, n in pieces:
            a, b = max(lo, start), min(hi, start + n)
            if a < b:
                slices.append((unit_dirs[u.key], a - start, b - start))
        plan.append({"file": f"train-{k:05d}-of-{n_shards:05d}.parquet", "slices": slices})
    # an empty corpus still gets one (empty) shard with the right columns
    plan[0]["schema_from"] = unit_dirs[units[0].key]
    return plan


def write_shard(shard: dict, out: str, compression: str) -> dict:
    """Write one training shard from its slices of the units' final documents."""
    tables = []
    for unit_dir, start, stop in shard["slices"]:
        tables.append(pq.read_table(os.path.join(unit_dir, "final.parquet")).slice(start, stop - start))
    if not tables:
        tables = [pq.read_schema(os.path.join(shard["schema_from"], "final.parquet")).empty_table()]
    table = pa.concat_tables(tables)
    atomic_write_table(table, os.path.join(out, layout.DATA, shard["file"]), compression)
    tokens = table.column(META_MECAB_TOKENS) if META_MECAB_TOKENS in table.column_names else None
    return {
        "rows": table.num_rows,
        "bytes": os.path.getsize(os.path.join(out, layout.DATA, shard["file"])),
        "chars": int(pa.compute.sum(pa.compute.utf8_length(table.column("text"))).as_py() or 0),
        "mecab_tokens": int(pa.compute.sum(tokens).as_py() or 0) if tokens is not None else 0,
    }


def remove_stale(out: str, produced: set[str]) -> None:
    """Delete output files of an earlier, different build that this build did not write."""
    for sub in (layout.DATA, layout.REMOVED, layout.QUARANTINE):
        for root, _, files in os.walk(os.path.join(out, sub)):
            for f in files:
                path = os.path.join(root, f)
                if path not in produced:
                    os.remove(path)
