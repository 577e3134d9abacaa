"""Reading a build output for ``jmedcorpus inspect``: only the columns and rows needed.

Selection reads light columns (``id`` and the filtered ones; ``text`` only for ``--query``) batch
by batch, skips row groups whose statistics exclude an equality filter, and stops once enough
documents are found; the full rows (text included) are then read only for the documents shown,
from their row group alone. Finding ids reads the ``id`` column only.
"""

from __future__ import annotations

import bisect
import glob
import json
import os
import random
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.parquet as pq

from jmedcorpus.errors import UserError
from jmedcorpus.io import layout

MANIFEST = layout.MANIFEST
OWNER_MARKER = ".jmedcorpus"
SELECT_BATCH = 4096  # rows per batch when selecting on light columns
TEXT_BATCH = 256  # rows per batch when the text column is read


@dataclass(frozen=True)
class Hit:
    """One row of one output file: ``file`` relative to OUT, ``row`` its index in the file."""

    kind: str  # kept | removed | quarantined
    file: str
    row: int
    id: str | None


@dataclass
class Output:
    root: str
    manifest: dict
    steps: list[dict] = field(default_factory=list)

    @property
    def step_names(self) -> list[str]:
        return [s["name"] for s in self.steps]

    def reasons(self) -> dict[str, dict[str, int]]:
        """reason -> {step: count} for every reason with a removed document."""
        out: dict[str, dict[str, int]] = {}
        for s in self.steps:
            for reason, n in (s.get("reasons") or {}).items():
                if n:
                    out.setdefault(reason, {})[s["name"]] = n
        return out

    def kept_files(self) -> list[str]:
        shards = [os.path.join(layout.DATA, s["file"]) for s in self.manifest.get("shards") or []]
        return [f for f in shards if os.path.exists(os.path.join(self.root, f))] or self._glob(layout.DATA)

    def removed_files(self, steps: list[str] | None = None) -> list[str]:
        files = []
        for name in steps if steps is not None else self.step_names:
            files += self._glob(os.path.join(layout.REMOVED, name))
        return files

    def quarantine_files(self) -> list[str]:
        return self._glob(layout.QUARANTINE)

    def _glob(self, sub: str) -> list[str]:
        paths = sorted(glob.glob(os.path.join(self.root, sub, "*.parquet")))
        return [os.path.relpath(p, self.root) for p in paths]

    def path(self, rel: str) -> str:
        return os.path.join(self.root, rel)


def open_output(path: str) -> Output:
    """The build output at ``path``; UserError when it is not one (or not a complete one)."""
    if not os.path.isdir(path):
        raise UserError(f"{path} is not a directory; give the --output directory of `jmedcorpus build`")
    manifest_path = os.path.join(path, MANIFEST)
    if not os.path.exists(manifest_path):
        if os.path.exists(os.path.join(path, OWNER_MARKER)):
            raise UserError(
                f"{path} is an incomplete build (no {MANIFEST}); "
                "re-run the same `jmedcorpus build` to finish it"
            )
        raise UserError(f"{path} is not a jmedcorpus build output (no {MANIFEST})")
    try:
        with open(manifest_path, encoding="utf-8") as f:
            manifest = json.load(f)
    except (OSError, ValueError) as e:
        raise UserError(f"cannot read {manifest_path}: {e}") from None
    if not isinstance(manifest, dict) or "steps" not in manifest:
        raise UserError(f"{manifest_path} is not a jmedcorpus build manifest (no steps)")
    return Output(os.path.abspath(path), manifest, list(manifest["steps"]))


def _open(out: Output, rel: str) -> pq.ParquetFile:
    return pq.ParquetFile(out.path(rel))


def _may_contain(rg_meta, column: int, values) -> bool:
    """False when the row group's min/max statistics exclude every one of ``values``."""
    stats = rg_meta.column(column).statistics
    if stats is None or not stats.has_min_max:
        return True
    return any(stats.min <= v <= stats.max for v in values)


@dataclass
class Selection:
    """Which rows of a file to take: equality filters (row groups pruned by statistics), a
    predicate on a batch of light columns, and the extra columns it needs."""

    equals: dict[str, str] = field(default_factory=dict)
    not_null: tuple[str, ...] = ()
    regex: object = None  # compiled Python pattern applied to ``text_column``
    text_column: str = "text"

    def columns(self, schema_names: list[str]) -> list[str]:
        cols = ["id"] if "id" in schema_names else []
        cols += [c for c in (*self.equals, *self.not_null) if c not in cols]
        if self.regex is not None and self.text_column not in cols:
            cols.append(self.text_column)
        return cols or schema_names[:1]

    def mask(self, batch: pa.RecordBatch) -> list[bool]:
        """Which rows of ``batch`` match (plain Python comparisons: converting a Python value to
        Arrow, as ``pc.equal(column, "x")`` does, imports pandas, a third of a second)."""
        keep = [True] * batch.num_rows
        for col, value in self.equals.items():
            keep = [k and v == value for k, v in zip(keep, batch.column(col).to_pylist())]
        for col in self.not_null:
            keep = [k and v is not None for k, v in zip(keep, batch.column(col).to_pylist())]
        if self.regex is not None:
            texts = batch.column(self.text_column).to_pylist()
            keep = [
                k and t is not None and self.regex.search(_as_text(t)) is not None
                for k, t in zip(keep, texts)
            ]
        return keep


def _as_text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _row_groups(pf: pq.ParquetFile, sel: Selection) -> list[tuple[int, int]]:
    """(row group, first row) of the row groups the statistics do not exclude."""
    names = pf.schema_arrow.names
    out, start = [], 0
    for i in range(pf.metadata.num_row_groups):
        rg = pf.metadata.row_group(i)
        if all(_may_contain(rg, names.index(c), [v]) for c, v in sel.equals.items() if c in names):
            out.append((i, start))
        start += rg.num_rows
    return out


def scan(out: Output, files: list[tuple[str, str]], sel: Selection):
    """Yield a :class:`Hit` for each matching row of ``files`` (``(kind, relative path)``), in
    file order, reading only the selection's columns; stop iterating to stop reading."""
    for kind, rel in files:
        pf = _open(out, rel)
        names = pf.schema_arrow.names
        if any(c not in names for c in (*sel.equals, *sel.not_null)):
            continue  # e.g. --source on a file without sources: nothing there can match
        cols = sel.columns(names)
        batch_size = TEXT_BATCH if sel.regex is not None else SELECT_BATCH
        for rg, offset in _row_groups(pf, sel):
            for batch in pf.iter_batches(batch_size=batch_size, row_groups=[rg], columns=cols):
                ids = batch.column("id").to_pylist() if "id" in names else [None] * batch.num_rows
                for i, ok in enumerate(sel.mask(batch)):
                    if ok:
                        yield Hit(kind, rel, offset + i, ids[i])
                offset += batch.num_rows


def sample(hits, n: int, seed: int, files: list[tuple[str, str]]) -> tuple[list[Hit], int]:
    """A uniform sample of ``n`` of ``hits`` (reservoir sampling seeded with ``seed``: the same
    output, filters and seed give the same sample), in file order; and the number of hits."""
    rng = random.Random(seed)
    chosen: list[Hit] = []
    seen = 0
    for hit in hits:
        seen += 1
        if len(chosen) < n:
            chosen.append(hit)
        else:
            j = rng.randrange(seen)
            if j < n:
                chosen[j] = hit
    order = {f: k for k, f in enumerate(files)}
    chosen.sort(key=lambda h: (order[(h.kind, h.file)], h.row))
    return chosen, seen


def find_ids(out: Output, files: list[tuple[str, str]], ids: set[str]) -> list[Hit]:
    """Every row of ``files`` whose ``id`` is in ``ids``, reading the ``id`` column only."""
    if not ids:
        return []
    hits = []
    for kind, rel in files:
        pf = _open(out, rel)
        if "id" not in pf.schema_arrow.names:
            continue
        col = pf.schema_arrow.names.index("id")
        start = 0
        for i in range(pf.metadata.num_row_groups):
            rg = pf.metadata.row_group(i)
            if _may_contain(rg, col, ids):
                column = pf.read_row_group(i, columns=["id"]).column("id").to_pylist()
                hits += [Hit(kind, rel, start + k, v) for k, v in enumerate(column) if v in ids]
            start += rg.num_rows
    return hits


class RowReader:
    """Full rows (text included) of hits, read only in the row groups that hold one,
    ``TEXT_BATCH`` rows at a time. A cursor is kept per file, so hits in file order (as
    :func:`scan`, :func:`sample` and :func:`find_ids` give them) are read in one forward pass
    however many calls they are spread over."""

    def __init__(self, out: Output, columns: list[str] | None = None) -> None:
        self.out, self.columns = out, columns
        self.files: dict[str, tuple[pq.ParquetFile, list[int], list[str] | None]] = {}
        # file -> [row group, batch iterator, batch, its first row, rows taken from it, its rows as dicts]
        self.cursors: dict[str, list] = {}

    def _file(self, rel: str):
        if rel not in self.files:
            pf = _open(self.out, rel)
            starts = [0]
            for i in range(pf.metadata.num_row_groups):
                starts.append(starts[-1] + pf.metadata.row_group(i).num_rows)
            cols = [c for c in self.columns if c in pf.schema_arrow.names] if self.columns else None
            self.files[rel] = (pf, starts, cols)
        return self.files[rel]

    def row(self, rel: str, row: int) -> dict | None:
        pf, starts, cols = self._file(rel)
        rg = bisect.bisect_right(starts, row) - 1
        if not 0 <= rg < len(starts) - 1:
            return None
        cur = self.cursors.get(rel)
        if cur is None or cur[0] != rg or row < cur[3]:
            batches = pf.iter_batches(batch_size=TEXT_BATCH, row_groups=[rg], columns=cols)
            cur = self.cursors[rel] = [rg, batches, next(batches, None), starts[rg], 0, None]
        while cur[2] is not None and row >= cur[3] + cur[2].num_rows:
            cur[3] += cur[2].num_rows
            cur[2], cur[4], cur[5] = next(cur[1], None), 0, None
        if cur[2] is None:
            return None
        cur[4] += 1
        if cur[4] == 2:  # a second row from this batch: convert it whole, once
            cur[5] = cur[2].to_pylist()
        if cur[5] is not None:
            return cur[5][row - cur[3]]
        return cur[2].slice(row - cur[3], 1).to_pylist()[0]

    def rows(self, hits: list[Hit]) -> list[tuple[Hit, dict]]:
        found = [(h, self.row(h.file, h.row)) for h in hits]
        return [(h, r) for h, r in found if r is not None]


def quarantine_ids(out: Output, id_field: str, wanted: str) -> list[Hit]:
    """Quarantined records whose raw bytes parse as a JSON object with ``id_field == wanted``, or
    whose derived id (``<file>:<offset>``, ``<file>:row<n>``) is ``wanted``."""
    hits = []
    for rel in out.quarantine_files():
        pf = _open(out, rel)
        start = 0
        for batch in pf.iter_batches(batch_size=SELECT_BATCH, columns=["file", "offset", "raw"]):
            files, offsets = batch.column("file").to_pylist(), batch.column("offset").to_pylist()
            for i, raw in enumerate(batch.column("raw").to_pylist()):
                derived = {f"{files[i]}:{offsets[i]}", f"{files[i]}:row{offsets[i]}"}
                if wanted in derived or raw_id(raw, id_field) == wanted:
                    hits.append(Hit("quarantined", rel, start + i, wanted))
            start += batch.num_rows
    return hits


def raw_id(raw: bytes | None, id_field: str) -> str | None:
    """The id of a quarantined raw JSON record, when it parses (invalid UTF-8 replaced).

    >>> raw_id(b'{"id": "a-1", "text": 42}', "id"), raw_id(b'{"id": "a', "id")
    ('a-1', None)
    """
    if not raw:
        return None
    try:
        record = json.loads(raw.decode("utf-8", "replace"))
    except ValueError:
        return None
    value = record.get(id_field) if isinstance(record, dict) else None
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
