"""The publish stage, after the global stages: removed and quarantined records under their final
names, and the training shards. ``finalize_unit`` and ``write_shard`` are bodies of Ray tasks."""

from __future__ import annotations

import glob
import math
import os

import numpy as np
import pyarrow as pa
import pyarrow.compute
import pyarrow.parquet as pq

from jmedcorpus.constants import META_MECAB_TOKENS
from jmedcorpus.io.parquet import REMOVED_SCHEMA, atomic_write_table
from jmedcorpus.io.plan import WorkUnit
from jmedcorpus.pipelines.global_stages import read_dups


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


def finalize_unit(
    unit: WorkUnit,
    unit_dir: str,
    out: str,
    stages: list[tuple[str, str, str]],
    line_offset: int,
    compression: str,
) -> list[str]:
    """Publish one unit's removed and quarantined records; returns their paths relative to ``out``.

    ``stages`` are the global dedup stages as ``(step name, reason, dups_dir)``. Also writes
    ``dup_rows.npy`` (rows of ``kept.parquet`` the global stages removed) for the shard writers.
    """
    written = []
    part = f"part-{unit.index:06d}.parquet"
    for path in sorted(glob.glob(os.path.join(unit_dir, "removed-*.parquet"))):
        step = os.path.basename(path)[len("removed-") : -len(".parquet")]
        rel = os.path.join("removed", step, part)
        _publish_file(path, os.path.join(out, rel))
        written.append(rel)
    q = os.path.join(unit_dir, "quarantine.parquet")
    if os.path.exists(q):
        table = pq.read_table(q)
        if line_offset:
            lines = pa.compute.add(table.column("line"), line_offset)
            table = table.set_column(table.schema.get_field_index("line"), "line", lines)
        rel = os.path.join("quarantine", part)
        atomic_write_table(table, os.path.join(out, rel), compression)
        written.append(rel)
    all_rows = [np.empty(0, dtype=np.int64)]
    for step, reason, dups_dir in stages:
        dups = read_dups(dups_dir, unit.index)
        if not dups.num_rows:
            continue
        rows = dups.column("row").to_numpy().astype(np.int64)
        all_rows.append(rows)
        kept = pq.read_table(os.path.join(unit_dir, "kept.parquet"), columns=["id", "text", "source"]).take(
            pa.array(rows)
        )
        n = len(rows)
        removed = pa.table(
            {
                "id": kept.column("id"),
                "text": kept.column("text"),
                "source": kept.column("source"),
                "step": pa.array([step] * n, pa.string()),
                "reason": pa.array([reason] * n, pa.string()),
                "detail": pa.array([None] * n, pa.string()),
                "duplicate_of": dups.column("kept_id"),
                "cluster": dups.column("cluster"),
                "signals": dups.column("signals"),
            },
            schema=REMOVED_SCHEMA,
        )
        rel = os.path.join("removed", step, part)
        atomic_write_table(removed, os.path.join(out, rel), compression)
        written.append(rel)
    np.save(os.path.join(unit_dir, "dup_rows.npy"), np.unique(np.concatenate(all_rows)))
    return written


def plan_shards(
    units: list[WorkUnit], results: dict, dedup_counts: dict, unit_dirs: dict, shard_mb: float
) -> list[dict]:
    """Cut the kept documents, in input order, into shards of about ``shard_mb`` of text.

    Depends only on counts, never on the number of workers: the same input gives the same shards.
    """
    pieces, total_rows, total_bytes = [], 0, 0
    for u in units:
        r = results[u.key]
        n = r["kept"] - dedup_counts.get(u.index, 0)
        if n:
            pieces.append((u, total_rows, n))
            total_rows += n
            total_bytes += r["kept_bytes"] * n // max(r["kept"], 1)
    n_shards = max(1, math.ceil(total_bytes / (shard_mb * (1 << 20))))
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
    """Write one training shard from its slices of the units' kept documents."""
    tables = []
    for unit_dir, start, stop in shard["slices"]:
        table = pq.read_table(os.path.join(unit_dir, "kept.parquet"))
        dup_rows = np.load(os.path.join(unit_dir, "dup_rows.npy"))
        if len(dup_rows):
            keep = np.ones(table.num_rows, dtype=bool)
            keep[dup_rows] = False
            table = table.filter(pa.array(keep))
        tables.append(table.slice(start, stop - start))
    if not tables:
        schema = pq.read_schema(os.path.join(shard["schema_from"], "kept.parquet"))
        tables = [schema.empty_table()]
    table = pa.concat_tables(tables)
    atomic_write_table(table, os.path.join(out, "data", shard["file"]), compression)
    tokens = table.column(META_MECAB_TOKENS) if META_MECAB_TOKENS in table.column_names else None
    return {
        "rows": table.num_rows,
        "bytes": os.path.getsize(os.path.join(out, "data", shard["file"])),
        "chars": int(pa.compute.sum(pa.compute.utf8_length(table.column("text"))).as_py() or 0),
        "mecab_tokens": int(pa.compute.sum(tokens).as_py() or 0) if tokens is not None else 0,
    }


def remove_stale(out: str, produced: set[str]) -> None:
    """Delete output files of an earlier, different build that this build did not write."""
    for sub in ("data", "removed", "quarantine"):
        for root, _, files in os.walk(os.path.join(out, sub)):
            for f in files:
                path = os.path.join(root, f)
                if path not in produced:
                    os.remove(path)
