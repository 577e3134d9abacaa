"""Parquet schemas of the output and atomic writes.

A file appears under its final name only when complete: it is written to a hidden temporary
name in the same directory (``.name.tmp-<pid>``; readers such as ``datasets`` skip hidden files)
and renamed, which is atomic on POSIX filesystems. A killed writer leaves at most a hidden
temporary file, which the next run removes.
"""

from __future__ import annotations

import json
import os

import pyarrow as pa
import pyarrow.parquet as pq

ARROW_TYPES = {"float64": pa.float64(), "int64": pa.int64(), "string": pa.string(), "bool": pa.bool_()}

REMOVED_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("text", pa.string()),
        ("source", pa.string()),
        ("step", pa.string()),
        ("reason", pa.string()),
        ("detail", pa.string()),
        ("duplicate_of", pa.string()),  # dedup steps: the id of the document kept instead
        ("cluster", pa.int64()),  # near-duplicate dedup: the cluster number (see removed/<step>)
        ("signals", pa.string()),  # JSON object of the signals measured before the drop
    ]
)

QUARANTINE_SCHEMA = pa.schema(
    [
        ("file", pa.string()),
        ("line", pa.int64()),
        ("offset", pa.int64()),
        ("error", pa.string()),
        ("detail", pa.string()),
        ("raw", pa.binary()),
    ]
)


def skip_pandas_probe() -> None:
    """Let pyarrow decide now, without importing pandas, that this process passes it no pandas
    objects.

    pyarrow imports pandas (when installed) on the first ``pa.array``/``from_pylist`` call to
    check whether the input is a DataFrame or Series: 0.12 s of every build's start, on a command
    whose records are plain Python values. With pandas hidden during that first check, pyarrow
    records "no pandas" and never probes again; ``to_pandas()`` and pandas inputs still work,
    because pyarrow imports pandas on demand where it needs it. Command entry points call this;
    library code does not (a caller's process may hand pyarrow pandas objects)."""
    import sys

    if "pandas" in sys.modules:
        return
    sys.meta_path.insert(0, _NoPandas)
    try:
        pa.array([0])
    finally:
        sys.meta_path.remove(_NoPandas)


class _NoPandas:
    """An import finder that fails ``import pandas`` (see :func:`skip_pandas_probe`)."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "pandas":
            raise ImportError("pandas hidden from pyarrow's first probe")


def kept_schema(signal_fields: dict[str, str]) -> pa.Schema:
    """Schema of the training shards: id, text, source, then the recipe's signal columns."""
    fields = [("id", pa.string()), ("text", pa.string()), ("source", pa.string())]
    fields += [(name, ARROW_TYPES[t]) for name, t in signal_fields.items()]
    return pa.schema(fields)


def atomic_write_table(table: pa.Table, path: str, compression: str = "zstd") -> None:
    """Write ``table`` to ``path`` so that ``path`` is either absent or complete."""
    directory, name = os.path.split(path)
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, f".{name}.tmp-{os.getpid()}")
    pq.write_table(table, tmp, compression=None if compression == "none" else compression)
    os.replace(tmp, path)


def atomic_save_npy(array, path: str) -> None:
    """``np.save`` to ``path`` atomically (same rule as :func:`atomic_write_table`)."""
    import numpy as np

    directory, name = os.path.split(path)
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, f".{name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as f:
        np.save(f, array)
    os.replace(tmp, path)


def save_partitioned(entries, n_buckets: int, path_pattern: str) -> list[int]:
    """Save a structured array whose first field is a 64-bit ``key`` as one ``.npy`` file per
    bucket ``key % n_buckets`` (``path_pattern`` formatted with the bucket); returns the buckets."""
    import numpy as np

    bucket_of = entries["key"] % np.uint64(n_buckets)
    buckets = [int(b) for b in np.unique(bucket_of)]
    for b in buckets:
        atomic_save_npy(entries[bucket_of == b], path_pattern.format(b))
    return buckets


def atomic_write_json(obj, path: str) -> None:
    """Write JSON to ``path`` atomically (same rule as :func:`atomic_write_table`)."""
    atomic_write_text(json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False), path)


def atomic_write_text(text: str, path: str) -> None:
    """Write UTF-8 text to ``path`` atomically (same rule as :func:`atomic_write_table`)."""
    directory, name = os.path.split(path)
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, f".{name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def remove_temporaries(directory: str) -> None:
    """Delete temporary files a killed run left behind in ``directory`` (recursively)."""
    for root, _, files in os.walk(directory):
        for f in files:
            if f.startswith(".") and ".tmp-" in f:
                os.remove(os.path.join(root, f))
