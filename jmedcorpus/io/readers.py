"""Read one work unit into datatrove Documents, quarantining what cannot be read.

Why not datatrove's readers: one invalid UTF-8 byte makes its JSONL reader yield nothing for the
whole file, and a malformed record raises. Here every line is decoded on its own: a bad line is
one :class:`Quarantined` record (file, line, byte offset, error, raw bytes) and reading goes on.

Ids are kept as given (strings; integers are converted to strings). A record without an id gets
a stable one from its file and position: ``<display path>:<byte offset>`` for JSONL,
``<display path>:row<n>`` for Parquet, ``<display path>`` for a text file. A JATS XML article
(:mod:`jmedcorpus.io.jats`) is one document with its DOI as id (else ``<display path>``) and its
metadata (doi, journal, year, license, ...) in ``doc.metadata``; a malformed one is quarantined
(``invalid_xml``).
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from datatrove.data import Document

from jmedcorpus import constants as C
from jmedcorpus.io.jats import JatsError, JatsOptions, parse_jats
from jmedcorpus.io.plan import WorkUnit

QUARANTINE_INVALID_XML = C.QUARANTINE_INVALID_XML


@dataclass
class Quarantined:
    """An input record that could not become a document. ``detail`` never holds text."""

    file: str
    error: str
    detail: str = ""
    line: int | None = None  # 1-based; for a JSONL byte range, counted from the range start
    offset: int | None = None  # byte offset (JSONL) or row (Parquet)
    raw: bytes = b""


@dataclass
class ReaderConfig:
    text_field: str = "text"
    id_field: str = "id"
    source_field: str = "source"
    jats: JatsOptions = field(default_factory=JatsOptions)


@dataclass
class UnitReader:
    """Iterate a unit's documents and quarantine records; ``lines`` counts JSONL lines consumed."""

    unit: WorkUnit
    config: ReaderConfig = field(default_factory=ReaderConfig)
    lines: int = 0

    def __iter__(self) -> Iterator[Document | Quarantined]:
        if self.unit.kind == "jsonl":
            return self._jsonl()
        if self.unit.kind == "parquet":
            return self._parquet()
        if self.unit.kind == "jats":
            return self._jats()
        return self._text()

    # --- records -> documents -----------------------------------------------------------------
    def _document(self, record, display: str, derived_id: str, line, offset, raw) -> Document | Quarantined:
        cfg = self.config

        def bad(error: str, detail: str) -> Quarantined:
            return Quarantined(display, error, detail, line, offset, raw)

        if not isinstance(record, dict):
            return bad(C.QUARANTINE_NOT_AN_OBJECT, f"record is a {type(record).__name__}, expected an object")
        if record.get(cfg.text_field) is None:
            return bad(C.QUARANTINE_MISSING_TEXT, f"no field {cfg.text_field!r}")
        text = record[cfg.text_field]
        if not isinstance(text, str):
            return bad(C.QUARANTINE_TEXT_NOT_STRING, f"field {cfg.text_field!r} is a {type(text).__name__}")
        doc_id = record.get(cfg.id_field)
        if doc_id is None:
            doc_id = derived_id
        elif isinstance(doc_id, bool) or not isinstance(doc_id, (str, int)):
            return bad(C.QUARANTINE_INVALID_ID, f"field {cfg.id_field!r} is a {type(doc_id).__name__}")
        source = record.get(cfg.source_field)
        source = source if isinstance(source, str) and source else display
        return Document(text=text, id=str(doc_id), metadata={C.META_SOURCE: source})

    # --- JSONL ----------------------------------------------------------------------------------
    def _open_jsonl(self):
        path = self.unit.path
        if path.endswith(".gz"):
            return gzip.open(path, "rb")
        if path.endswith(".zst"):
            import zstandard

            return io.BufferedReader(
                zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), closefd=True)
            )
        return open(path, "rb")

    def _jsonl(self):
        unit = self.unit
        try:
            f = self._open_jsonl()
        except OSError as e:
            yield Quarantined(unit.display, C.QUARANTINE_UNREADABLE_FILE, type(e).__name__)
            return
        with f:
            pos = unit.start
            if pos > 0:  # the line straddling `start` belongs to the previous range
                f.seek(pos - 1)
                pos = pos - 1 + len(f.readline())
            any_line = False
            try:
                for raw in f:
                    if unit.end >= 0 and pos >= unit.end:
                        break
                    any_line = True
                    self.lines += 1
                    offset, pos = pos, pos + len(raw)
                    yield from self._jsonl_line(raw, offset)
            except (OSError, EOFError, ValueError) as e:  # corrupt compressed stream: keep what was read
                yield Quarantined(
                    unit.display, C.QUARANTINE_UNREADABLE_FILE, type(e).__name__, self.lines + 1, pos
                )
            if not any_line and unit.start == 0:
                yield Quarantined(unit.display, C.QUARANTINE_EMPTY_FILE, "file has no lines", offset=0)

    def _jsonl_line(self, raw: bytes, offset: int):
        unit, line = self.unit, self.lines
        if not raw.strip():
            return
        try:
            decoded = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            yield Quarantined(
                unit.display, C.QUARANTINE_INVALID_UTF8, f"byte {e.start}: {e.reason}", line, offset, raw
            )
            return
        try:
            record = json.loads(decoded)
        except json.JSONDecodeError as e:
            yield Quarantined(
                unit.display, C.QUARANTINE_INVALID_JSON, f"{e.msg} at column {e.colno}", line, offset, raw
            )
            return
        yield self._document(record, unit.display, f"{unit.display}:{offset}", line, offset, raw)

    # --- Parquet --------------------------------------------------------------------------------
    def _parquet(self):
        import pyarrow.parquet as pq

        unit, cfg = self.unit, self.config
        try:
            pf = pq.ParquetFile(unit.path)
            if pf.metadata.num_rows == 0:
                yield Quarantined(unit.display, C.QUARANTINE_EMPTY_FILE, "file has no rows", offset=0)
                return
            first_row = sum(pf.metadata.row_group(i).num_rows for i in range(unit.start))
            names = set(pf.schema_arrow.names)
            columns = [c for c in (cfg.text_field, cfg.id_field, cfg.source_field) if c in names]
            table = pf.read_row_group(unit.start, columns=columns)
        except Exception as e:  # noqa: BLE001 - not Parquet, truncated, unreadable
            yield Quarantined(unit.display, C.QUARANTINE_UNREADABLE_FILE, type(e).__name__)
            return
        for i, record in enumerate(table.to_pylist()):
            row = first_row + i
            yield self._document(record, unit.display, f"{unit.display}:row{row}", None, row, b"")

    # --- text files -----------------------------------------------------------------------------
    def _files(self):
        """``(display name, bytes)`` of each file of a grouped unit (text, JATS), or a Quarantined
        record for a file that cannot be read or is empty."""
        for path, display in self.unit.files:
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError as e:
                yield Quarantined(display, C.QUARANTINE_UNREADABLE_FILE, type(e).__name__)
                continue
            if not data.strip():
                yield Quarantined(display, C.QUARANTINE_EMPTY_FILE, "file is empty", offset=0)
                continue
            yield display, data

    def _text(self):
        for item in self._files():
            if isinstance(item, Quarantined):
                yield item
                continue
            display, data = item
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                bad: list[Quarantined] = []
                text = "".join(_decode_lines(data, display, bad))
                yield from bad
                if not text.strip():
                    continue
            yield Document(text=text.lstrip("\ufeff"), id=display, metadata={C.META_SOURCE: display})

    # --- JATS XML articles ----------------------------------------------------------------------
    def _jats(self):
        for item in self._files():
            if isinstance(item, Quarantined):
                yield item
                continue
            display, data = item
            try:
                article = parse_jats(data, self.config.jats)
            except JatsError as e:
                yield Quarantined(display, QUARANTINE_INVALID_XML, str(e), raw=data)
                continue
            metadata = {**article.metadata, C.META_SOURCE: display}
            yield Document(text=article.text, id=article.metadata.get("doi") or display, metadata=metadata)


def _decode_lines(data: bytes, display: str, bad: list[Quarantined]):
    """Decode line by line: a line with invalid UTF-8 goes to ``bad``, the rest of the file is kept."""
    offset = 0
    for lineno, raw in enumerate(data.splitlines(keepends=True), 1):
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as e:
            yield "\n" if raw.endswith(b"\n") else ""
            bad.append(
                Quarantined(
                    display, C.QUARANTINE_INVALID_UTF8, f"byte {e.start}: {e.reason}", lineno, offset, raw
                )
            )
        offset += len(raw)
