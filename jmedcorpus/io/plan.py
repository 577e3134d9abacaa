"""Turn ``--input`` arguments into an ordered list of work units.

A unit is the work of one Ray task: a byte range of a plain JSONL file (cut at a line boundary
by the reader), one Parquet row group, one whole compressed JSONL file (gzip/zstd streams cannot
be split), or a group of ``.txt`` files or of JATS XML articles (``.xml``, ``.nxml``). Units are sized by ``chunk_bytes`` only, never by the
number of workers, so the plan, and with it every output, is the same with 1 or 100 workers.

Input order is the order of ``--input`` arguments, files sorted by path within a directory or
glob, then byte offset or row. Exact dedup keeps the first document in this order.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass

from jmedcorpus.errors import UserError

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
COMPRESSED = (".gz", ".zst")
SUPPORTED = "JSONL (.jsonl, .jsonl.gz, .jsonl.zst), Parquet (.parquet), text (.txt), JATS XML (.xml, .nxml)"
GROUPED = ("text", "jats")  # one document per file: many small files make one unit


@dataclass(frozen=True)
class WorkUnit:
    """One task's share of the input; ``key`` names it in the work directory."""

    index: int
    kind: str  # "jsonl" | "parquet" | "text" | "jats"
    path: str  # absolute path (text, jats: the first file)
    display: str  # path relative to its --input root: used in derived ids and the quarantine
    start: int = 0  # jsonl: first byte; parquet: row group
    end: int = -1  # jsonl: byte after the range (-1: to the end)
    files: tuple[tuple[str, str], ...] = ()  # text, jats: (absolute path, display) of each file

    @property
    def key(self) -> str:
        return f"unit-{self.index:06d}"

    def describe(self) -> str:
        """Where this unit's data comes from, for error summaries (no text)."""
        if self.kind == "parquet":
            return f"{self.display} row group {self.start}"
        if self.kind in GROUPED:
            what = "text" if self.kind == "text" else "JATS XML"
            return f"{len(self.files)} {what} file(s) from {self.display}"
        return f"{self.display} bytes {self.start}-{'end' if self.end < 0 else self.end}"


def file_kind(path: str) -> str | None:
    """``jsonl``, ``parquet``, ``text``, ``jats`` or None for an unsupported file name."""
    name = path.lower()
    for suffix in COMPRESSED:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            return "jsonl" if name.endswith(JSONL_SUFFIXES) else None
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith(".txt"):
        return "text"
    if name.endswith((".xml", ".nxml")):
        return "jats"
    return None


def _expand(arg: str) -> list[tuple[str, str]]:
    """(absolute path, display path) of the files one --input argument names, sorted."""
    if glob.has_magic(arg):
        root = arg
        while glob.has_magic(root):
            root = os.path.dirname(root)
        paths = [p for p in glob.glob(arg, recursive=True) if os.path.isfile(p) and file_kind(p)]
        if not paths:
            raise UserError(f"--input {arg}: the pattern matches no {SUPPORTED} file")
    elif os.path.isdir(arg):
        root = arg
        paths = [os.path.join(d, f) for d, _, fs in os.walk(arg) for f in fs if file_kind(f)]
        if not paths:
            raise UserError(f"--input {arg}: the directory holds no {SUPPORTED} file")
    elif os.path.isfile(arg):
        if not file_kind(arg):
            raise UserError(f"--input {arg}: unsupported file type; use {SUPPORTED}")
        root, paths = os.path.dirname(arg), [arg]
    else:
        raise UserError(f"--input {arg}: no such file or directory; check the path")
    return sorted((os.path.abspath(p), os.path.relpath(p, root or ".")) for p in paths)


def _parquet_row_groups(path: str) -> int:
    import pyarrow.parquet as pq

    try:
        return max(1, pq.ParquetFile(path).num_row_groups)
    except Exception:  # noqa: BLE001 - an unreadable file becomes one unit whose reader quarantines it
        return 1


def plan_units(inputs: list[str], *, chunk_bytes: int) -> list[WorkUnit]:
    """Expand ``inputs`` and cut them into units of about ``chunk_bytes``."""
    if not inputs:
        raise UserError("no input given; pass --input FILE_OR_DIR_OR_GLOB (repeatable)")
    if chunk_bytes < 1:
        raise UserError(f"chunk size must be positive, got {chunk_bytes} bytes")
    seen: set[str] = set()
    files: list[tuple[str, str]] = []
    for arg in inputs:
        for path, display in _expand(arg):
            real = os.path.realpath(path)
            if real not in seen:  # the same file named twice is read once
                seen.add(real)
                files.append((path, display))
    units: list[WorkUnit] = []
    text_group: list[tuple[str, str]] = []
    text_bytes = 0
    group_kind = "text"

    def flush_text():
        nonlocal text_group, text_bytes
        if text_group:
            first = text_group[0]
            units.append(WorkUnit(len(units), group_kind, first[0], first[1], files=tuple(text_group)))
            text_group, text_bytes = [], 0

    for path, display in files:
        kind = file_kind(path)
        if kind in GROUPED:
            if kind != group_kind:
                flush_text()
                group_kind = kind
            text_group.append((path, display))
            text_bytes += os.path.getsize(path)
            if text_bytes >= chunk_bytes:
                flush_text()
            continue
        flush_text()
        if kind == "parquet":
            for rg in range(_parquet_row_groups(path)):
                units.append(WorkUnit(len(units), kind, path, display, start=rg))
        elif path.lower().endswith(COMPRESSED):
            units.append(WorkUnit(len(units), kind, path, display))
        else:
            size = os.path.getsize(path)
            for start in range(0, max(size, 1), chunk_bytes):
                end = start + chunk_bytes
                units.append(WorkUnit(len(units), kind, path, display, start, end if end < size else -1))
    flush_text()
    return units
