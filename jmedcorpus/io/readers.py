"""Read one work unit into datatrove Documents, quarantining what cannot be read.

Why not datatrove's readers: one invalid UTF-8 byte makes its JSONL reader yield nothing for the
whole file, and a malformed record raises. Here every line is decoded on its own: a bad line is
one :class:`Quarantined` record (file, line, byte offset, error, raw bytes) and reading goes on.
Bad input never stops a unit: a file that cannot be read (a truncated or corrupt gzip/zstd
stream, keeping every complete line before the damage) is one ``unreadable_file`` record, and in
a group of text or JATS files any failure costs that file only.

Ids are kept as given (strings; integers are converted to strings); an id holding a lone
surrogate (``"\\udc00"`` in JSON) is ``invalid_id``, since Parquet cannot store it. A record
without an id gets a stable one from its file and position: ``<display path>:<byte offset>`` for
JSONL, ``<display path>:<index>`` for an element of a JSON array file, ``<display path>:row<n>``
for Parquet, ``<display path>`` for a text file. A JATS XML article (:mod:`jmedcorpus.io.jats`)
is one document with its DOI as id (else ``<display path>``) and its metadata (doi, journal,
year, license, ...) in ``doc.metadata``; a malformed one is quarantined (``invalid_xml``).

JSON layouts: JSON Lines (``.jsonl``, ``.ndjson``, ``.json``; a UTF-8 byte order mark at byte 0
is dropped), and a ``.json`` file whose first non-blank byte is ``[``: one JSON array read whole,
each element a record (an invalid file is one ``invalid_json`` record).

Encodings (``ReaderConfig.encoding``: ``auto`` or a codec name) follow :mod:`jmedcorpus.io.encodings`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from datatrove.data import Document

from jmedcorpus import constants as C
from jmedcorpus.io.compressed import STREAM_ERRORS, open_stream, stream_detail
from jmedcorpus.io.encodings import (
    ascii_compatible,
    decode_error,
    decode_text_file,
    is_text_encoding,
    split_keep,
    whole_codec,
)
from jmedcorpus.io.jats import JatsError, JatsOptions, parse_jats
from jmedcorpus.io.plan import COMPRESSED, HEAD_BYTES, WorkUnit, is_article_member, is_json_name, read_whole

QUARANTINE_INVALID_XML = C.QUARANTINE_INVALID_XML
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass
class Quarantined:
    """An input record that could not become a document. ``detail`` never holds text."""

    file: str
    error: str
    detail: str = ""
    line: int | None = None  # 1-based; for a JSONL byte range, counted from the range start
    offset: int | None = None  # byte offset (JSONL), row (Parquet) or element (JSON array)
    raw: bytes = b""


@dataclass
class ReaderConfig:
    text_field: str = "text"
    id_field: str = "id"
    source_field: str = "source"
    jats: JatsOptions = field(default_factory=JatsOptions)
    encoding: str = "auto"  # "auto" or a Python codec name (see jmedcorpus.io.encodings)

    def __post_init__(self):
        if self.encoding != "auto" and not is_text_encoding(self.encoding):
            raise ValueError(f"encoding {self.encoding!r} is not a Python text codec; use auto or e.g. cp932")


def _has_surrogate(s: str) -> bool:
    return not s.isascii() and _SURROGATE.search(s) is not None


@dataclass
class UnitReader:
    """Iterate a unit's documents and quarantine records; ``lines`` counts JSONL lines consumed;
    ``missing_text_keys`` counts the field names (never values) of ``missing_text`` records."""

    unit: WorkUnit
    config: ReaderConfig = field(default_factory=ReaderConfig)
    lines: int = 0
    missing_text_keys: Counter = field(default_factory=Counter)

    def __iter__(self) -> Iterator[Document | Quarantined]:
        if self.unit.kind == "jsonl":
            return self._jsonl()
        if self.unit.kind == "parquet":
            return self._parquet()
        if self.unit.kind == "jats":
            return self._jats(self._files())
        if self.unit.kind == "archive":
            return self._jats(self._archive_members())
        return self._text()

    # --- records -> documents -----------------------------------------------------------------
    def _document(self, record, display: str, derived_id: str, line, offset, raw) -> Document | Quarantined:
        cfg = self.config

        def bad(error: str, detail: str) -> Quarantined:
            return Quarantined(display, error, detail, line, offset, raw)

        if not isinstance(record, dict):
            return bad(C.QUARANTINE_NOT_AN_OBJECT, f"record is a {type(record).__name__}, expected an object")
        if record.get(cfg.text_field) is None:
            # names only, made storable: a key may itself hold a lone surrogate
            self.missing_text_keys.update(str(k)[:100].encode("utf-8", "replace").decode() for k in record)
            return bad(C.QUARANTINE_MISSING_TEXT, f"no field {cfg.text_field!r}")
        text = record[cfg.text_field]
        if not isinstance(text, str):
            return bad(C.QUARANTINE_TEXT_NOT_STRING, f"field {cfg.text_field!r} is a {type(text).__name__}")
        doc_id = record.get(cfg.id_field)
        if doc_id is None:
            doc_id = derived_id
        elif isinstance(doc_id, bool) or not isinstance(doc_id, (str, int)):
            return bad(C.QUARANTINE_INVALID_ID, f"field {cfg.id_field!r} is a {type(doc_id).__name__}")
        elif isinstance(doc_id, str) and _has_surrogate(doc_id):
            return bad(C.QUARANTINE_INVALID_ID, "id holds a lone surrogate")
        source = record.get(cfg.source_field)
        source = source if isinstance(source, str) and source and not _has_surrogate(source) else display
        return Document(text=text, id=str(doc_id), metadata={C.META_SOURCE: source})

    # --- JSONL ----------------------------------------------------------------------------------
    def _jsonl(self):
        unit, encoding = self.unit, self.config.encoding
        try:
            f = open_stream(unit.path)
        except OSError as e:
            yield Quarantined(unit.display, C.QUARANTINE_UNREADABLE_FILE, type(e).__name__)
            return
        with f:
            try:  # the same bytes plan_units looked at, so both agree on the layout
                if unit.path.lower().endswith(COMPRESSED):
                    head = f.peek(HEAD_BYTES)[:HEAD_BYTES]
                else:
                    head = f.read(HEAD_BYTES)
                    f.seek(0)
            except STREAM_ERRORS as e:
                yield Quarantined(
                    unit.display, C.QUARANTINE_UNREADABLE_FILE, stream_detail(e, unit.path), 1, 0
                )
                return
            if read_whole(head, unit.path) or not ascii_compatible(encoding):
                if unit.start == 0:  # no line boundaries to split at: the first range reads it all
                    yield from self._whole(f)
                return
            yield from self._lines(f, "utf-8" if encoding == "auto" else encoding)

    def _lines(self, f, codec: str):
        unit = self.unit
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
                yield from self._jsonl_line(raw, offset, codec)
        except STREAM_ERRORS as e:  # a damaged compressed stream: keep what was read
            yield Quarantined(
                unit.display, C.QUARANTINE_UNREADABLE_FILE, stream_detail(e, unit.path), self.lines + 1, pos
            )
            return
        if not any_line and unit.start == 0:
            yield Quarantined(unit.display, C.QUARANTINE_EMPTY_FILE, "file has no lines", offset=0)

    def _jsonl_line(self, raw: bytes, offset: int, codec: str):
        unit, line = self.unit, self.lines
        if not raw.strip():
            return
        try:
            decoded = raw.decode(codec)
        except UnicodeDecodeError as e:
            error, detail = decode_error(codec, e)
            yield Quarantined(unit.display, error, detail, line, offset, raw)
            return
        if offset == 0:
            decoded = decoded.removeprefix("\ufeff")  # else the first record is lost to invalid_json
            if not decoded.strip():
                return
        try:
            record = json.loads(decoded)
        except json.JSONDecodeError as e:
            yield Quarantined(
                unit.display, C.QUARANTINE_INVALID_JSON, f"{e.msg} at column {e.colno}", line, offset, raw
            )
            return
        except RecursionError:  # '[' * 10000: the decoder recurses per level
            yield Quarantined(unit.display, C.QUARANTINE_INVALID_JSON, "nested too deeply", line, offset, raw)
            return
        yield self._document(record, unit.display, f"{unit.display}:{offset}", line, offset, raw)

    def _whole(self, f):
        """A JSON array file, or JSON Lines in UTF-16/32: decoded whole, then parsed."""
        display = self.unit.display
        try:
            data = f.read()
        except STREAM_ERRORS as e:
            yield Quarantined(
                display, C.QUARANTINE_UNREADABLE_FILE, stream_detail(e, self.unit.path), offset=0
            )
            return
        codec, skip = whole_codec(data, self.config.encoding)
        try:
            text = data[skip:].decode(codec)
        except UnicodeDecodeError as e:
            error, detail = decode_error(codec, e, skip)
            yield Quarantined(display, error, detail, offset=e.start + skip)
            return
        if not text.strip():
            yield Quarantined(display, C.QUARANTINE_EMPTY_FILE, "file has no lines", offset=0)
        elif is_json_name(self.unit.path) and text.lstrip()[:1] == "[":
            yield from self._array(text)
        else:
            pos = skip
            for seg in split_keep(text):
                self.lines += 1
                raw = seg.encode(codec)
                yield from self._jsonl_line(raw, pos, codec)
                pos += len(raw)

    def _array(self, text: str):
        display = self.unit.display
        self.lines += text.count("\n") + 1
        try:
            items = json.loads(text)
        except json.JSONDecodeError as e:
            detail = f"{e.msg} at line {e.lineno}, column {e.colno}"
            yield Quarantined(display, C.QUARANTINE_INVALID_JSON, detail, offset=0)
            return
        except RecursionError:
            yield Quarantined(display, C.QUARANTINE_INVALID_JSON, "nested too deeply", offset=0)
            return
        if not items:
            yield Quarantined(display, C.QUARANTINE_EMPTY_FILE, "array has no elements", offset=0)
        for i, item in enumerate(items):
            result = self._document(item, display, f"{display}:{i}", None, i, b"")
            if isinstance(result, Quarantined):
                result.raw = json.dumps(item).encode()  # ASCII JSON: storable whatever it holds
            yield result

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
            if cfg.text_field not in names:  # the hint needs every column name, not just those read
                self.missing_text_keys.update({n: table.num_rows for n in names if n not in columns})
        except Exception as e:  # noqa: BLE001 - not Parquet, truncated, unreadable
            yield Quarantined(unit.display, C.QUARANTINE_UNREADABLE_FILE, type(e).__name__)
            return
        for i, record in enumerate(table.to_pylist()):
            row = first_row + i
            yield self._document(record, unit.display, f"{unit.display}:row{row}", None, row, b"")

    # --- text files and JATS articles (grouped units: one failure costs one file) --------------
    def _files(self):
        """``(display name, bytes)`` of each file of a grouped unit (text, JATS), or a Quarantined
        record for a file that cannot be read or is empty."""
        for path, display in self.unit.files:
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except Exception as e:  # noqa: BLE001 - OSError, MemoryError: this file only
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
            display = item[0]
            try:
                out = list(self._text_file(*item))
            except Exception as e:  # noqa: BLE001 - never lose the unit's other files
                out = [Quarantined(display, C.QUARANTINE_UNREADABLE_FILE, type(e).__name__)]
            yield from out

    def _text_file(self, display: str, data: bytes):
        text, bad = decode_text(data, self.config.encoding, display)
        yield from bad
        if text is not None and text.strip():
            yield Document(text=text, id=display, metadata={C.META_SOURCE: display})
        elif text is not None and not bad:  # blank once decoded (a UTF-16 file of spaces)
            yield Quarantined(display, C.QUARANTINE_EMPTY_FILE, "file is empty", offset=0)

    def _archive_members(self):
        """``(display, bytes)`` of the unit's range of JATS members of a tar archive, read as a
        stream (``<archive>/<member name>`` as display); a broken archive keeps what was read
        and adds one ``unreadable_file`` record."""
        import tarfile

        unit, index, done = self.unit, -1, 0
        try:
            with tarfile.open(unit.path, mode="r|*") as tar:
                for member in tar:
                    if not is_article_member(member):
                        continue
                    index += 1
                    if index < unit.start:
                        continue  # a stream: skipping still reads through it
                    if 0 <= unit.end <= index:
                        break
                    display = f"{unit.display}/{member.name}"
                    data = tar.extractfile(member).read()
                    done += 1
                    if data.strip():
                        yield display, data
                    else:
                        yield Quarantined(display, C.QUARANTINE_EMPTY_FILE, "file is empty", offset=0)
            if index < 0 and unit.start == 0:
                yield Quarantined(
                    unit.display, C.QUARANTINE_EMPTY_FILE, "archive holds no JATS XML member", offset=0
                )
        except (tarfile.TarError, OSError, EOFError, ValueError) as e:
            yield Quarantined(
                unit.display,
                C.QUARANTINE_UNREADABLE_FILE,
                f"archive unreadable after member {done}: {type(e).__name__}",
            )

    def _jats(self, items):
        for item in items:
            if isinstance(item, Quarantined):
                yield item
                continue
            display, data = item
            try:
                article = parse_jats(data, self.config.jats)
            except JatsError as e:
                yield Quarantined(display, QUARANTINE_INVALID_XML, str(e), raw=data)
                continue
            except Exception as e:  # noqa: BLE001 - never lose the unit's other files
                yield Quarantined(display, QUARANTINE_INVALID_XML, type(e).__name__, raw=data)
                continue
            metadata = {**article.metadata, C.META_SOURCE: display}
            yield Document(text=article.text, id=article.metadata.get("doi") or display, metadata=metadata)


def decode_text(data: bytes, encoding: str, display: str) -> tuple[str | None, list[Quarantined]]:
    """A text file's text (:func:`jmedcorpus.io.encodings.decode_text_file`) and its quarantine records."""
    text, problems = decode_text_file(data, encoding)
    return text, [Quarantined(display, *p) for p in problems]
