"""Megatron-LM's indexed dataset format (``MMIDIDX``), as ``megatron.core.datasets.indexed_dataset``
(megatron-core 0.16.1) writes and reads it.

A dataset is a prefix ``P`` with two files:

- ``P.bin``: the token ids of every sequence, back to back, in the index's dtype.
- ``P.idx``, little-endian::

      b"MMIDIDX\\x00\\x00"      9-byte magic
      <Q 1                     version
      <B dtype code            1 uint8, 2 int8, 3 int16, 4 int32, 5 int64, 6 float64, 7 float32, 8 uint16
      <Q sequence count S
      <Q document-index count D (= documents + 1)
      int32[S]                 tokens per sequence
      int64[S]                 byte offset of each sequence in P.bin
      int64[D]                 document indices: 0, then the sequence count after each document

Megatron picks uint16 when the vocabulary has fewer than 65,500 entries and int32 otherwise
(``DType.optimal_dtype``); so do we. We write one sequence per document, so the document indices
are ``0, 1, ..., S``. The round trip through megatron-core's own ``IndexedDataset`` is tested.
"""

from __future__ import annotations

import os
import struct

import numpy as np

MAGIC = b"MMIDIDX\x00\x00"
VERSION = 1
DTYPE_CODES = {
    "uint8": 1,
    "int8": 2,
    "int16": 3,
    "int32": 4,
    "int64": 5,
    "float64": 6,
    "float32": 7,
    "uint16": 8,
}
HEADER_BYTES = len(MAGIC) + 8 + 1 + 8 + 8


def optimal_dtype(cardinality: int) -> np.dtype:
    """uint16 below 65,500 distinct ids, else int32 (Megatron's rule).

    >>> optimal_dtype(32000).name, optimal_dtype(151_643).name
    ('uint16', 'int32')
    """
    return np.dtype(np.uint16) if cardinality < 65500 else np.dtype(np.int32)


def index_bytes(sizes: np.ndarray, dtype: np.dtype) -> bytes:
    """The ``.idx`` file of a dataset whose sequences (one per document) have ``sizes`` tokens."""
    sizes = np.asarray(sizes, dtype=np.int32)
    n = len(sizes)
    pointers = np.zeros(n, dtype=np.int64)
    if n:
        np.cumsum(sizes[:-1].astype(np.int64) * dtype.itemsize, out=pointers[1:])
    header = MAGIC + struct.pack("<Q", VERSION) + struct.pack("<B", DTYPE_CODES[dtype.name])
    header += struct.pack("<Q", n) + struct.pack("<Q", n + 1)
    documents = np.arange(n + 1, dtype=np.int64)
    return header + sizes.tobytes() + pointers.tobytes() + documents.tobytes()


def read_index(path: str) -> tuple[np.dtype, np.ndarray]:
    """``(dtype, sizes)`` of an ``.idx`` file; ValueError when it is not a complete MMIDIDX index."""
    with open(path, "rb") as f:
        head = f.read(HEADER_BYTES)
        if len(head) < HEADER_BYTES or head[: len(MAGIC)] != MAGIC:
            raise ValueError(f"{path}: not a Megatron MMIDIDX index")
        version, code, n, d = struct.unpack("<QBQQ", head[len(MAGIC) :])
        names = {c: name for name, c in DTYPE_CODES.items()}
        if version != VERSION or code not in names:
            raise ValueError(f"{path}: unsupported index version {version} or dtype code {code}")
        sizes = np.frombuffer(f.read(4 * n), dtype=np.int32)
        rest = f.read()
    if len(sizes) != n or len(rest) != 8 * n + 8 * d:
        raise ValueError(f"{path}: truncated index")
    return np.dtype(names[code]), sizes


def complete_dataset(prefix: str, sizes: np.ndarray, dtype: np.dtype) -> bool:
    """Whether ``prefix.idx`` and ``prefix.bin`` exist and hold exactly ``sizes`` in ``dtype``."""
    try:
        found_dtype, found = read_index(prefix + ".idx")
        bin_bytes = os.path.getsize(prefix + ".bin")
    except (OSError, ValueError):
        return False
    return (
        found_dtype == dtype
        and np.array_equal(found, sizes)
        and bin_bytes == int(np.sum(sizes, dtype=np.int64)) * dtype.itemsize
    )
