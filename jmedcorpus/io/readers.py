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

Encodings (``ReaderConfig.encoding``, the recipe's ``input.encoding``): a Python codec name, or
``auto`` (default). JSONL with ``auto`` is UTF-8 per line, or UTF-16/32 when the file starts with
that byte order mark; with a codec, each line is decoded with it. A text file with ``auto``:

1. a byte order mark (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE) names the codec;
2. NUL bytes, nine in ten or more at odd (even) positions and at least a quarter of those
   positions: UTF-16-LE (-BE) without a byte order mark, if it decodes;
3. strict UTF-8 if the file decodes;
4. UTF-8 with damaged lines when at least half of the lines holding non-ASCII bytes decode:
   each bad line is one ``invalid_utf8`` record, the rest of the file is kept;
5. strict CP932 (Shift_JIS) and EUC-JP, each kept only when at least half of its non-ASCII
   characters are Japanese (kana, kanji, Japanese punctuation, full-width forms): Python's
   CP932 also decodes stray bytes to private-use and C1 characters. If both are kept, the one
   with the higher share of Japanese characters (CP932 on a tie);
6. else the file is one ``undecodable_text`` record naming the likely encoding (from
   charset-normalizer) and telling to set ``input.encoding``.

With an explicit codec a text file decodes strictly with it or is that one record. JATS files
follow their XML declaration (:mod:`jmedcorpus.io.jats`), whatever ``encoding`` says.
"""

from __future__ import annotations

import codecs
import gzip
import io
import json
import re
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from datatrove.data import Document

from jmedcorpus import constants as C
from jmedcorpus.io.jats import JatsError, JatsOptions, parse_jats
from jmedcorpus.io.plan import COMPRESSED, HEAD_BYTES, WorkUnit, is_json_name, read_whole

QUARANTINE_INVALID_XML = C.QUARANTINE_INVALID_XML
# longest first: a UTF-32-LE mark starts with the UTF-16-LE one
BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
LEGACY_JA = ("cp932", "euc_jp")
ZSTD_READ = 1 << 17  # compressed bytes per step: bounds what one step can inflate to
_SURROGATE = re.compile("[\ud800-\udfff]")
_JA_CHARS = re.compile("[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def is_text_encoding(name: str) -> bool:
    """Whether ``name`` is a Python codec between bytes and text (not base64, rot13)."""
    try:
        return getattr(codecs.lookup(name), "_is_text_encoding", True)
    except LookupError:
        return False


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
    encoding: str = "auto"  # "auto" or a Python codec name (see the module docstring)

    def __post_init__(self):
        if self.encoding != "auto" and not is_text_encoding(self.encoding):
            raise ValueError(f"encoding {self.encoding!r} is not a Python text codec; use auto or e.g. cp932")


class _StreamError(Exception):
    """A damaged compressed stream; the message is the quarantine detail."""


class _ZstdRaw(io.RawIOBase):
    """Every frame of a ``.zst`` file, decompressed; raises :class:`_StreamError` when the last
    frame is cut short. zstandard's ``stream_reader`` ends quietly on a truncated file."""

    def __init__(self, path: str):
        import zstandard

        self._f = open(path, "rb")  # noqa: SIM115 - closed by close(), as io streams are
        self._dctx, self._error = zstandard.ZstdDecompressor(), zstandard.ZstdError
        self._obj = None
        self._out, self._pos, self._done = b"", 0, False

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        while self._pos >= len(self._out):
            if self._done:
                return 0
            self._out, self._pos = self._step(), 0
        n = min(len(b), len(self._out) - self._pos)
        b[:n] = self._out[self._pos : self._pos + n]
        self._pos += n
        return n

    def _step(self) -> bytes:
        chunk = self._f.read(ZSTD_READ)
        if not chunk:
            self._done = True
            if self._obj is not None and not self._obj.eof:
                raise _StreamError("truncated zstd stream")
            return b""
        out = []
        while chunk:
            if self._obj is None or self._obj.eof:  # the next frame
                self._obj = self._dctx.decompressobj()
            try:
                out.append(self._obj.decompress(chunk))
            except self._error:
                self._done = True
                raise _StreamError("corrupt zstd stream") from None
            chunk = self._obj.unused_data if self._obj.eof else b""
        return b"".join(out)

    def close(self):
        self._f.close()
        super().close()


_STREAM_ERRORS = (OSError, EOFError, ValueError, zlib.error, _StreamError)


def _stream_detail(e: Exception, path: str) -> str:
    if isinstance(e, _StreamError):
        return str(e)
    if not path.lower().endswith(".gz"):
        return type(e).__name__
    if isinstance(e, EOFError):
        return "truncated gzip stream"
    return f"corrupt gzip stream ({type(e).__name__})"  # BadGzipFile, zlib.error


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
    def _open_jsonl(self):
        path = self.unit.path
        if path.lower().endswith(".gz"):
            return gzip.open(path, "rb")
        if path.lower().endswith(".zst"):
            return io.BufferedReader(_ZstdRaw(path))
        return open(path, "rb")

    def _jsonl(self):
        unit, encoding = self.unit, self.config.encoding
        try:
            f = self._open_jsonl()
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
            except _STREAM_ERRORS as e:
                yield Quarantined(
                    unit.display, C.QUARANTINE_UNREADABLE_FILE, _stream_detail(e, unit.path), 1, 0
                )
                return
            if read_whole(head, unit.path) or not _ascii_compatible(encoding):
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
        except _STREAM_ERRORS as e:  # a damaged compressed stream: keep what was read
            yield Quarantined(
                unit.display, C.QUARANTINE_UNREADABLE_FILE, _stream_detail(e, unit.path), self.lines + 1, pos
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
            error, detail = _decode_error(codec, e)
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
        except _STREAM_ERRORS as e:
            yield Quarantined(
                display, C.QUARANTINE_UNREADABLE_FILE, _stream_detail(e, self.unit.path), offset=0
            )
            return
        codec, skip = _whole_codec(data, self.config.encoding)
        try:
            text = data[skip:].decode(codec)
        except UnicodeDecodeError as e:
            error, detail = _decode_error(codec, e, skip)
            yield Quarantined(display, error, detail, offset=e.start + skip)
            return
        if not text.strip():
            yield Quarantined(display, C.QUARANTINE_EMPTY_FILE, "file has no lines", offset=0)
        elif is_json_name(self.unit.path) and text.lstrip()[:1] == "[":
            yield from self._array(text)
        else:
            pos = skip
            for seg in _split_keep(text):
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
            except Exception as e:  # noqa: BLE001 - never lose the unit's other files
                yield Quarantined(display, QUARANTINE_INVALID_XML, type(e).__name__, raw=data)
                continue
            metadata = {**article.metadata, C.META_SOURCE: display}
            yield Document(text=article.text, id=article.metadata.get("doi") or display, metadata=metadata)


# --- decoding -----------------------------------------------------------------------------------
def _ascii_compatible(encoding: str) -> bool:
    """Whether newline and ``{`` are single ASCII bytes, so lines can be split as bytes."""
    return encoding == "auto" or codecs.encode("\n{", encoding).endswith(b"\n{")


def _whole_codec(data: bytes, encoding: str) -> tuple[str, int]:
    """(codec, byte order mark length) for a file decoded whole."""
    family = "" if encoding == "auto" else codecs.lookup(encoding).name[:6].rstrip("-")  # utf-8-sig
    for bom, codec in BOMS:
        if data.startswith(bom) and (not family or codec.startswith(family)):
            return codec, len(bom)
    if not family:
        return "utf-8", 0
    name = codecs.lookup(encoding).name
    return {"utf-16": "utf-16-le", "utf-32": "utf-32-le", "utf-8-sig": "utf-8"}.get(name, name), 0


def _split_keep(text: str) -> list[str]:
    # not str.splitlines: JSON strings may hold U+2028 and other separators it splits on
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _decode_error(codec: str, e: UnicodeDecodeError, skip: int = 0) -> tuple[str, str]:
    if codecs.lookup(codec).name.startswith("utf-8"):
        return C.QUARANTINE_INVALID_UTF8, f"byte {e.start + skip}: {e.reason}"
    return C.QUARANTINE_UNDECODABLE, f"not valid {codec} at byte {e.start + skip}"


def _ja_share(text: str) -> float:
    return (len(text) - len(_JA_CHARS.sub("", text))) / max(1, len(text))


def _legacy_ja(data: bytes) -> str | None:
    """Rule 5 of the module docstring."""
    kept = []
    for codec in LEGACY_JA:
        text = _try_decode(data, codec)
        if text is not None:
            ja = len(text) - len(_JA_CHARS.sub("", text))
            if 2 * ja >= len(text) - len(text.encode("ascii", "ignore")):  # non-ASCII characters
                kept.append(text)
    return max(kept, key=_ja_share) if kept else None


def _utf16_without_bom(data: bytes) -> str | None:
    for codec, nul, other in (("utf-16-le", data[1::2], data[0::2]), ("utf-16-be", data[0::2], data[1::2])):
        n = nul.count(0)
        if n * 4 >= len(nul) and n >= 9 * other.count(0):
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                return None
    return None


def _likely_encoding(data: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[: 1 << 16]).best()
        return best.encoding if best else None
    except Exception:  # noqa: BLE001 - only a hint
        return None


def _undecodable(display: str, data: bytes, why: str) -> Quarantined:
    guess = _likely_encoding(data)
    hint = f"likely {guess}; " if guess else ""
    detail = f"{why}; {hint}set input.encoding in the recipe"
    return Quarantined(display, C.QUARANTINE_UNDECODABLE, detail, offset=0, raw=data)


def decode_text(data: bytes, encoding: str, display: str) -> tuple[str | None, list[Quarantined]]:
    """A text file's text under the module docstring's rule, and its quarantine records."""
    if encoding != "auto":
        codec, skip = _whole_codec(data, encoding)
        try:
            return data[skip:].decode(codec), []
        except UnicodeDecodeError as e:
            return None, [_undecodable(display, data, f"not valid {codec} at byte {e.start + skip}")]
    for bom, codec in BOMS:
        if data.startswith(bom) and codec != "utf-8":
            try:
                return data[len(bom) :].decode(codec), []
            except UnicodeDecodeError as e:
                why = f"not valid {codec} at byte {e.start + len(bom)}"
                return None, [_undecodable(display, data, why)]
    if b"\x00" in data and (text := _utf16_without_bom(data)) is not None:
        return text, []
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    wide = [ln for ln in data.splitlines() if not ln.isascii()]
    if 2 * sum(_decodes(ln, "utf-8") for ln in wide) >= len(wide):
        bad: list[Quarantined] = []
        text = "".join(_decode_lines(data, display, bad)).removeprefix("\ufeff")
        return text, bad
    text = _legacy_ja(data)
    if text is not None:
        return text, []
    return None, [_undecodable(display, data, "not UTF-8, CP932 or EUC-JP")]


def _decodes(raw: bytes, codec: str) -> bool:
    return _try_decode(raw, codec) is not None


def _try_decode(raw: bytes, codec: str) -> str | None:
    try:
        return raw.decode(codec)
    except UnicodeDecodeError:
        return None


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
