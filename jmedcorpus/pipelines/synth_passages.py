"""The passage stage of ``jmedcorpus synth``: find the build's shards, cut and select passages on
Ray (one task per shard), and keep the selection for a resumed run.

Selection is done per shard and merged: each task keeps its ``n`` best-ranked eligible passages
(:func:`~jmedcorpus.synth.passages.select_passages`), and the driver keeps the ``n`` best of their
union. Ranks are a keyed hash of (seed, passage key), so this is exactly the sample one pass over
the whole corpus would give, and no task holds more than ``n`` passages.
"""

from __future__ import annotations

import glob
import json
import os
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq

from jmedcorpus.errors import UserError
from jmedcorpus.io.parquet import atomic_write_table
from jmedcorpus.synth.passages import SKIP_NOT_SAMPLED, Passage, passages_from_shards, select_passages

_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("index", pa.int64()),
        ("text", pa.string()),
        ("start", pa.int64()),
        ("end", pa.int64()),
        ("tokens", pa.int64()),
        ("medical_density", pa.float64()),
        ("signals", pa.string()),
    ]
)


def input_shards(inputs: list[str]) -> list[str]:
    """Parquet files to read: a build output directory (its ``data/``), a directory (every
    ``*.parquet`` below it, hidden files skipped), a file, or a quoted glob; sorted, each once."""
    found: list[str] = []
    for arg in inputs:
        if os.path.isdir(arg):
            root = os.path.join(arg, "data") if os.path.isdir(os.path.join(arg, "data")) else arg
            files = glob.glob(os.path.join(root, "**", "*.parquet"), recursive=True)
        elif os.path.isfile(arg):
            files = [arg]
        else:
            files = glob.glob(arg, recursive=True)
            if not files:
                raise UserError(
                    f"--input {arg}: no such file or directory; give the build's output directory"
                )
        files = [f for f in files if f.endswith(".parquet") and not os.path.basename(f).startswith(".")]
        if not files:
            raise UserError(
                f"--input {arg}: no Parquet files found; give the output of `jmedcorpus build` (OUT or OUT/data)"
            )
        found += sorted(os.path.abspath(f) for f in files)
    return list(dict.fromkeys(found))


def select_in_shard(path: str, settings: dict, seed: int) -> dict:
    """Ray task: passages of one shard and its best-ranked ``n`` eligible ones."""
    stats: dict[str, int] = {}
    try:
        passages = passages_from_shards(
            path,
            text_field=settings["text_field"],
            id_field=settings["id_field"],
            min_tokens=settings["min_tokens"],
            max_tokens=settings["max_tokens"],
            stats=stats,
        )
        selected, skipped = select_passages(
            passages,
            n=settings["n"],
            seed=seed,
            min_tokens=settings["min_tokens"],
            max_tokens=settings["max_tokens"],
            min_medical_density=settings["min_medical_density"],
            min_japanese_ratio=settings["min_japanese_ratio"],
        )
    except ValueError as e:  # a file without the id/text columns: the message names the file and column
        return {"error": str(e)}
    return {"selected": selected, "skipped": skipped, "stats": stats}


def merge_selections(results: list[dict], n: int | None, seed: int) -> tuple[list[Passage], dict, dict]:
    """``(passages, skipped, stats)`` over all shards (see the module docstring)."""
    skipped: Counter = Counter()
    stats: Counter = Counter()
    candidates = []
    for r in results:
        skipped.update(r["skipped"])
        stats.update(r["stats"])
        candidates += r["selected"]
    # Re-ranking the union drops nothing else: every candidate already passed the filters.
    selected, more = select_passages(
        candidates,
        n=n,
        seed=seed,
        min_tokens=0,
        max_tokens=10**9,
        min_medical_density=0.0,
        min_japanese_ratio=0.0,
    )
    skipped[SKIP_NOT_SAMPLED] += more[SKIP_NOT_SAMPLED]
    return selected, dict(skipped), dict(stats)


def save_passages(passages: list[Passage], path: str) -> None:
    table = pa.Table.from_pylist(
        [
            {
                "doc_id": p.doc_id,
                "index": p.index,
                "text": p.text,
                "start": p.start,
                "end": p.end,
                "tokens": p.tokens,
                "medical_density": p.medical_density,
                "signals": json.dumps(p.signals, ensure_ascii=False, default=str),
            }
            for p in passages
        ],
        schema=_SCHEMA,
    )
    atomic_write_table(table, path)


def load_passages(path: str) -> list[Passage]:
    rows = pq.read_table(path).to_pylist()
    return [Passage(**{**r, "signals": json.loads(r["signals"])}) for r in rows]
