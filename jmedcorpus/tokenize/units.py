"""Work units of ``jmedcorpus tokenize`` and the Ray task that tokenizes one.

A unit is a range of rows of one row group of one of the build's shards, about ``unit_mb`` MB of
text (from the Parquet metadata), cut by size only: the same corpus gives the same units whatever
the number of workers. The task reads the unit's ``text`` and ``source`` columns in batches,
encodes each batch (:func:`~jmedcorpus.tokenize.tokenizer.encode_documents`: ids + EOS per
document) and appends every document's tokens to its group's file in the unit's directory::

    .work/units/<unit>-<fingerprint>/<group>.bin        token ids, documents back to back
    .work/units/<unit>-<fingerprint>/<group>.sizes.npy  tokens per document (int32, EOS included)
    .work/units/<unit>-<fingerprint>/result.json        written last: documents and tokens per group and source

A unit whose ``result.json`` exists is done. After a run the ``.bin`` files are deleted and the
rest kept (4 bytes per document), so the shards can be planned and checked without re-reading
the corpus; a damaged shard is rebuilt by re-tokenizing only the units it spans.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import time
from collections import defaultdict
from dataclasses import asdict, dataclass

import numpy as np
import pyarrow.parquet as pq

from jmedcorpus.io.parquet import atomic_write_json
from jmedcorpus.tokenize.settings import group_of
from jmedcorpus.tokenize.tokenizer import encode_documents, load_backend

RESULT = "result.json"
BATCH_ROWS = 512  # documents per encode call


@dataclass(frozen=True)
class Unit:
    index: int
    path: str  # a Parquet shard of the build
    row_group: int
    start: int  # rows [start, stop) of the row group
    stop: int

    @property
    def key(self) -> str:
        stem = os.path.basename(self.path).removesuffix(".parquet")
        return f"{stem}-rg{self.row_group}-{self.start}"

    def to_dict(self) -> dict:
        return asdict(self)


def plan_units(shards: list[str], unit_mb: float) -> list[Unit]:
    """Cut every row group into row ranges of about ``unit_mb`` MB of text (uncompressed)."""
    units: list[Unit] = []
    for path in shards:
        meta = pq.ParquetFile(path).metadata
        text_column = meta.schema.to_arrow_schema().get_field_index("text")
        for rg in range(meta.num_row_groups):
            group = meta.row_group(rg)
            rows = group.num_rows
            if not rows:
                continue
            text_bytes = group.column(text_column).total_uncompressed_size
            n = max(1, min(rows, math.ceil(text_bytes / (unit_mb * 1e6))))
            for k in range(n):
                start, stop = k * rows // n, (k + 1) * rows // n
                units.append(Unit(len(units), path, rg, start, stop))
    return units


def tokenize_unit(unit: Unit, unit_dir: str, backend_path: str, settings: dict) -> dict:
    """Ray task: tokenize one unit into ``unit_dir`` (see the module docstring); returns its result.

    ``settings``: ``eos_id``, ``dtype``, ``group_by`` (the pattern), ``fault`` (a test hook)."""
    done = os.path.join(unit_dir, RESULT)
    if os.path.exists(done):
        with open(done, encoding="utf-8") as f:
            return json.load(f)
    fault = settings.get("fault")
    if fault and fault.get("unit") == unit.index:
        raise RuntimeError("injected fault")
    started, cpu = time.perf_counter(), time.process_time()
    shutil.rmtree(unit_dir, ignore_errors=True)  # an earlier, killed attempt
    os.makedirs(unit_dir)
    backend = load_backend(backend_path)
    dtype, eos_id = np.dtype(settings["dtype"]), settings["eos_id"]
    pattern = re.compile(settings["group_by"])
    group_by_source: dict[str, str] = {}
    files: dict = {}
    sizes: dict[str, list] = defaultdict(list)
    sources: dict[str, list] = {}  # source -> [group, documents, tokens]
    try:
        for texts, srcs in _batches(unit):
            ids, doc_sizes = encode_documents(backend, texts, eos_id, dtype)
            groups = [
                group_by_source.get(s) or group_by_source.setdefault(s, group_of(s, pattern)) for s in srcs
            ]
            for s, g, n in zip(srcs, groups, doc_sizes.tolist()):
                entry = sources.setdefault(s, [g, 0, 0])
                entry[1] += 1
                entry[2] += n
            for g, doc_mask in _by_group(groups):
                if g not in files:
                    files[g] = open(os.path.join(unit_dir, f"{g}.bin"), "wb")  # noqa: SIM115 - closed below
                if doc_mask is None:
                    files[g].write(ids.tobytes())
                    sizes[g].append(doc_sizes)
                else:
                    files[g].write(ids[np.repeat(doc_mask, doc_sizes)].tobytes())
                    sizes[g].append(doc_sizes[doc_mask])
    finally:
        for f in files.values():
            f.close()
    result = {"unit": unit.key, "groups": {}, "sources": sources}
    for g, parts in sizes.items():
        arr = np.concatenate(parts).astype(np.int32)
        np.save(os.path.join(unit_dir, f"{g}.sizes.npy"), arr)
        result["groups"][g] = {"documents": len(arr), "tokens": int(arr.sum(dtype=np.int64))}
    result["seconds"] = round(time.perf_counter() - started, 3)
    result["cpu_seconds"] = round(time.process_time() - cpu, 3)
    atomic_write_json(result, done)
    return result


def _batches(unit: Unit):
    """``(texts, sources)`` lists of the unit's rows, ``BATCH_ROWS`` at a time."""
    f = pq.ParquetFile(unit.path)
    row = 0
    for batch in f.iter_batches(
        batch_size=BATCH_ROWS, row_groups=[unit.row_group], columns=["text", "source"]
    ):
        lo, hi = max(unit.start - row, 0), min(unit.stop - row, batch.num_rows)
        row += batch.num_rows
        if lo >= hi:
            if row >= unit.stop:
                break
            continue
        batch = batch.slice(lo, hi - lo)
        texts = batch.column("text").fill_null("").to_pylist()  # columns come in the file's order
        yield texts, batch.column("source").fill_null("").to_pylist()


def _by_group(groups: list[str]):
    """``(group, mask)`` for each group in the batch; mask None when the batch is one group."""
    first = groups[0]
    if all(g == first for g in groups):
        yield first, None
        return
    arr = np.array(groups, dtype=object)
    for g in dict.fromkeys(groups):
        yield g, arr == g


def load_sizes(unit_dir: str, group: str) -> np.ndarray:
    return np.load(os.path.join(unit_dir, f"{group}.sizes.npy"))


def drop_token_files(unit_dir: str) -> None:
    """Delete a finished unit's token files; its sizes and result stay (see the module docstring)."""
    for name in os.listdir(unit_dir):
        if name.endswith(".bin"):
            os.remove(os.path.join(unit_dir, name))
