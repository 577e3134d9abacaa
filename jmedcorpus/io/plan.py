"""Turn ``--input`` arguments into an ordered list of work units.

A unit is the work of one Ray task: a byte range of a plain JSONL file (cut at a line boundary
by the reader), one Parquet row group, one whole compressed JSONL file (gzip/zstd streams cannot
be split), one whole JSON array file or UTF-16/32 JSONL file (neither has line boundaries to cut
at), a group of ``.txt`` files or of JATS XML articles (``.xml``, ``.nxml``), or a range of the
JATS members of a tar archive (``.tar.gz``, ``.tgz``, ``.tar``: PMC's bulk packages), read
without unpacking. A gzip stream cannot seek, so each range's task decompresses the archive up
to its first member: gzip inflates at ~300 MB/s, against ~1 MB/s per core for the steps, so
skipping costs ~1 % per 20 ranges of one archive. Units are sized
by ``chunk_bytes`` only, never by the number of workers, so the plan, and with it every output,
is the same with 1 or 100 workers.

Input order is the order of ``--input`` arguments, files sorted by path within a directory or
glob, then byte offset or row. Exact dedup keeps the first document in this order.

Files under a directory or glob that are not read are skipped, never fatal, and reported as
:class:`SkippedFile` when ``plan_units(..., skipped=[])`` is given a list: broken symlinks and
symlink loops, unreadable or special files, unsupported file types, hidden files and
directories (names starting with ``.``; a directory walk only), symlinks to directories (not
followed). A file named directly by ``--input`` must exist and be supported (a one-line error).
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass

from jmedcorpus.errors import UserError

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
COMPRESSED = (".gz", ".zst")
SUPPORTED = (
    "JSONL (.jsonl, .jsonl.gz, .jsonl.zst), Parquet (.parquet), text (.txt), JATS XML (.xml, .nxml), "
    "tar archives of JATS XML (.tar.gz, .tgz, .tar)"
)
ARCHIVES = (".tar.gz", ".tgz", ".tar")
GROUPED = ("text", "jats")  # one document per file: many small files make one unit
WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")  # UTF-16 LE/BE, UTF-32 LE/BE
HEAD_BYTES = 8192  # what the planner and the reader look at to pick a JSON file's layout


@dataclass(frozen=True)
class WorkUnit:
    """One task's share of the input; ``key`` names it in the work directory."""

    index: int
    kind: str  # "jsonl" | "parquet" | "text" | "jats" | "archive"
    path: str  # absolute path (text, jats: the first file)
    display: str  # path relative to its --input root: used in derived ids and the quarantine
    start: int = 0  # jsonl: first byte; parquet: row group; archive: first JATS member (index)
    end: int = -1  # jsonl: byte after the range; archive: member after it (-1: to the end)
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
        if self.kind == "archive":
            return f"{self.display} JATS members {self.start}-{'end' if self.end < 0 else self.end}"
        return f"{self.display} bytes {self.start}-{'end' if self.end < 0 else self.end}"


@dataclass(frozen=True)
class SkippedFile:
    """A file under an ``--input`` directory or glob that is not read (path relative to its root)."""

    path: str
    reason: str


def file_kind(path: str) -> str | None:
    """``jsonl``, ``parquet``, ``text``, ``jats``, ``archive`` or None for an unsupported file name."""
    name = path.lower()
    if name.endswith(ARCHIVES):
        return "archive"
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


def is_article_member(member) -> bool:
    """A tar member the archive reader reads: a regular file named like a JATS article."""
    return member.isfile() and file_kind(member.name) == "jats"


def archive_ranges(path: str, chunk_bytes: int) -> tuple[list[tuple[int, int]], int]:
    """Ranges ``[start, end)`` of JATS member indices of about ``chunk_bytes`` each (the last
    ends at -1), and the number of other members. One pass over the archive's headers (a
    ``.tar.gz`` is decompressed once); an unreadable archive is one range, for the reader to
    quarantine."""
    import tarfile

    sizes, others = [], 0
    try:
        with tarfile.open(path, mode="r|*") as tar:
            for member in tar:
                if is_article_member(member):
                    sizes.append(member.size)
                elif member.isfile():
                    others += 1
    except (tarfile.TarError, OSError, EOFError, ValueError):
        return [(0, -1)], others
    ranges, start, total = [], 0, 0
    for i, size in enumerate(sizes):
        total += size
        if total >= chunk_bytes and i + 1 < len(sizes):
            ranges.append((start, i + 1))
            start, total = i + 1, 0
    ranges.append((start, -1))
    return ranges, others


def read_whole(head: bytes, path: str) -> bool:
    """Whether a JSONL-kind file must be read whole: a ``.json`` file whose first non-blank byte
    is ``[`` (one JSON array) or a file starting with a UTF-16/32 byte order mark."""
    if head.startswith(WIDE_BOMS):
        return True
    return is_json_name(path) and head.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] == b"["


def is_json_name(path: str) -> bool:
    """``.json`` (maybe compressed), not ``.jsonl``/``.ndjson``: the only name a JSON array may have."""
    name = path.lower()
    for suffix in COMPRESSED:
        name = name.removesuffix(suffix)
    return name.endswith(".json")


def _display(path: str, root: str) -> str:
    # a file name that is not UTF-8 would break the Parquet writer later (ids, quarantine)
    rel = os.path.relpath(path, root or ".")
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _skip_reason(path: str, hidden_check: bool) -> str | None:
    name = os.path.basename(path)
    if hidden_check and name.startswith("."):
        return "hidden file"
    if os.path.islink(path) and not os.path.exists(path):  # dangling, or a loop (ELOOP)
        return "broken symlink"
    if not file_kind(name):
        inner, ext = os.path.splitext(name.lower())
        if ext in COMPRESSED:
            ext = os.path.splitext(inner)[1] + ext
        return f"unsupported file type ({ext or 'no extension'})"
    if not os.path.isfile(path):  # a FIFO would block the reader forever
        return "not a regular file"
    if not os.access(path, os.R_OK):
        return "unreadable (permission denied)"
    return None


def _walk(root: str, skip) -> list[str]:
    paths = []

    def onerror(e: OSError):
        skip(e.filename or root, f"unreadable ({type(e).__name__})")

    for d, dirs, names in os.walk(root, onerror=onerror):
        for name in sorted(dirs):
            full = os.path.join(d, name)
            if name.startswith("."):
                skip(full + os.sep, "hidden file")
            elif os.path.islink(full):  # not followed: it could loop or leave the input tree
                skip(full, "symlink to a directory (not followed)")
        dirs[:] = [n for n in dirs if not n.startswith(".")]
        for name in names:
            full = os.path.join(d, name)
            reason = _skip_reason(full, hidden_check=True)
            if reason:
                skip(full, reason)
            else:
                paths.append(full)
    return paths


def _expand(arg: str, skipped: list[SkippedFile]) -> list[tuple[str, str]]:
    """(absolute path, display path) of the files one --input argument names, sorted."""
    found: list[SkippedFile] = []
    root = arg
    if glob.has_magic(arg):
        while glob.has_magic(root):
            root = os.path.dirname(root)

    def skip(path: str, reason: str):
        tail = os.sep if path.endswith(os.sep) else ""  # a hidden directory, as one entry
        found.append(SkippedFile(_display(path, root) + tail, reason))

    if glob.has_magic(arg):
        paths = []
        for p in glob.glob(arg, recursive=True):
            if os.path.isdir(p):
                continue  # a directory a pattern matches is not an input file
            reason = _skip_reason(p, hidden_check=False)
            if reason:
                skip(p, reason)
            else:
                paths.append(p)
        if not paths:
            raise UserError(f"--input {arg}: the pattern matches no {SUPPORTED} file{_why(found)}")
    elif os.path.isdir(arg):
        paths = _walk(arg, skip)
        if not paths:
            raise UserError(f"--input {arg}: the directory holds no {SUPPORTED} file{_why(found)}")
    elif os.path.isfile(arg):
        if not file_kind(arg):
            raise UserError(f"--input {arg}: unsupported file type; use {SUPPORTED}")
        root, paths = os.path.dirname(arg), [arg]
    else:
        raise UserError(f"--input {arg}: no such file or directory; check the path")
    skipped.extend(sorted(found, key=lambda s: s.path))
    return sorted((os.path.abspath(p), _display(p, root)) for p in paths)


def _why(found: list[SkippedFile]) -> str:
    if not found:
        return ""
    first = min(found, key=lambda s: s.path)
    return f" ({len(found)} skipped, e.g. {first.path}: {first.reason})"


def _parquet_row_groups(path: str) -> int:
    import pyarrow.parquet as pq

    try:
        return max(1, pq.ParquetFile(path).num_row_groups)
    except Exception:  # noqa: BLE001 - an unreadable file becomes one unit whose reader quarantines it
        return 1


def _head(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(HEAD_BYTES)
    except OSError:
        return b""  # the reader quarantines the file


MIN_UNIT_BYTES = 256 << 10  # below this a unit's fixed cost (task, files, result) dominates


def unit_bytes(total: int, chunk_bytes: int, min_units: int) -> int:
    """Unit size for ``total`` input bytes: ``chunk_bytes`` at most, smaller so that the input
    makes about ``min_units`` units (but never under :data:`MIN_UNIT_BYTES`). Depends on the
    input only, never on the workers: a 2.3 MB input is 9 units, not one unit for one core.

    >>> [unit_bytes(mb << 20, 16 << 20, 32) >> 10 for mb in (2, 50, 1024)]  # KiB
    [256, 1600, 16384]
    """
    return max(1, min(chunk_bytes, max(MIN_UNIT_BYTES, -(-total // max(1, min_units)))))


def plan_units(
    inputs: list[str], *, chunk_bytes: int, skipped: list | None = None, min_units: int = 1
) -> list[WorkUnit]:
    """Expand ``inputs`` and cut them into units of about ``chunk_bytes`` (smaller with
    ``min_units``, see :func:`unit_bytes`); files not read are appended to ``skipped``
    (:class:`SkippedFile`) when a list is given."""
    if not inputs:
        raise UserError("no input given; pass --input FILE_OR_DIR_OR_GLOB (repeatable)")
    if chunk_bytes < 1:
        raise UserError(f"chunk size must be positive, got {chunk_bytes} bytes")
    skipped = [] if skipped is None else skipped
    seen: set[str] = set()
    files: list[tuple[str, str, int]] = []
    for arg in inputs:
        for path, display in _expand(arg, skipped):
            real = os.path.realpath(path)
            if real in seen:  # the same file named twice is read once
                continue
            try:  # it may vanish or become unreadable after the walk
                size = os.path.getsize(path)
            except OSError as e:
                skipped.append(SkippedFile(display, f"unreadable ({type(e).__name__})"))
                continue
            seen.add(real)
            files.append((path, display, size))
    if min_units > 1:
        chunk_bytes = unit_bytes(sum(size for _, _, size in files), chunk_bytes, min_units)
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

    for path, display, size in files:
        kind = file_kind(path)
        if kind in GROUPED:
            if kind != group_kind:
                flush_text()
                group_kind = kind
            text_group.append((path, display))
            text_bytes += size
            if text_bytes >= chunk_bytes:
                flush_text()
            continue
        flush_text()
        if kind == "parquet":
            for rg in range(_parquet_row_groups(path)):
                units.append(WorkUnit(len(units), kind, path, display, start=rg))
        elif kind == "archive":
            ranges, others = archive_ranges(path, chunk_bytes)
            for start, end in ranges:
                units.append(WorkUnit(len(units), kind, path, display, start, end))
            if others:
                skipped.append(SkippedFile(display, f"{others} archive member(s) that are not JATS XML"))
        elif path.lower().endswith(COMPRESSED) or read_whole(_head(path), path):
            units.append(WorkUnit(len(units), kind, path, display))
        else:
            for start in range(0, max(size, 1), chunk_bytes):
                end = start + chunk_bytes
                units.append(WorkUnit(len(units), kind, path, display, start, end if end < size else -1))
    flush_text()
    return units
