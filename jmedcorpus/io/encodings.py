"""Decode input bytes to text: ``ReaderConfig.encoding``, the recipe's ``input.encoding``.

The encoding is a Python codec name, or ``auto`` (default). JSONL with ``auto`` is UTF-8 per
line, or UTF-16/32 when the file starts with that byte order mark; with a codec, each line is
decoded with it. A text file with ``auto``:

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

Records are returned as :class:`Problem` (a quarantine record without its file name), so this
module knows nothing of readers; :mod:`jmedcorpus.io.readers` names the file.
"""

from __future__ import annotations

import codecs
import re
from typing import NamedTuple

from jmedcorpus import constants as C

# longest first: a UTF-32-LE mark starts with the UTF-16-LE one
BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
LEGACY_JA = ("cp932", "euc_jp")
_JA_CHARS = re.compile("[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


class Problem(NamedTuple):
    """What could not be decoded: the fields of a ``Quarantined`` record after ``file``."""

    error: str
    detail: str
    line: int | None
    offset: int | None
    raw: bytes


def is_text_encoding(name: str) -> bool:
    """Whether ``name`` is a Python codec between bytes and text (not base64, rot13)."""
    try:
        return getattr(codecs.lookup(name), "_is_text_encoding", True)
    except LookupError:
        return False


def ascii_compatible(encoding: str) -> bool:
    """Whether newline and ``{`` are single ASCII bytes, so lines can be split as bytes."""
    return encoding == "auto" or codecs.encode("\n{", encoding).endswith(b"\n{")


def whole_codec(data: bytes, encoding: str) -> tuple[str, int]:
    """(codec, byte order mark length) for a file decoded whole."""
    family = "" if encoding == "auto" else codecs.lookup(encoding).name[:6].rstrip("-")  # utf-8-sig
    for bom, codec in BOMS:
        if data.startswith(bom) and (not family or codec.startswith(family)):
            return codec, len(bom)
    if not family:
        return "utf-8", 0
    name = codecs.lookup(encoding).name
    return {"utf-16": "utf-16-le", "utf-32": "utf-32-le", "utf-8-sig": "utf-8"}.get(name, name), 0


def split_keep(text: str) -> list[str]:
    # not str.splitlines: JSON strings may hold U+2028 and other separators it splits on
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def decode_error(codec: str, e: UnicodeDecodeError, skip: int = 0) -> tuple[str, str]:
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


def _undecodable(data: bytes, why: str) -> Problem:
    guess = _likely_encoding(data)
    hint = f"likely {guess}; " if guess else ""
    detail = f"{why}; {hint}set input.encoding in the recipe"
    return Problem(C.QUARANTINE_UNDECODABLE, detail, None, 0, data)


def decode_text_file(data: bytes, encoding: str) -> tuple[str | None, list[Problem]]:
    """A text file's text under the module docstring's rule, and what could not be decoded."""
    if encoding != "auto":
        codec, skip = whole_codec(data, encoding)
        try:
            return data[skip:].decode(codec), []
        except UnicodeDecodeError as e:
            return None, [_undecodable(data, f"not valid {codec} at byte {e.start + skip}")]
    for bom, codec in BOMS:
        if data.startswith(bom) and codec != "utf-8":
            try:
                return data[len(bom) :].decode(codec), []
            except UnicodeDecodeError as e:
                why = f"not valid {codec} at byte {e.start + len(bom)}"
                return None, [_undecodable(data, why)]
    if b"\x00" in data and (text := _utf16_without_bom(data)) is not None:
        return text, []
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    wide = [ln for ln in data.splitlines() if not ln.isascii()]
    if 2 * sum(_decodes(ln, "utf-8") for ln in wide) >= len(wide):
        bad: list[Problem] = []
        text = "".join(_decode_lines(data, bad)).removeprefix("\ufeff")
        return text, bad
    text = _legacy_ja(data)
    if text is not None:
        return text, []
    return None, [_undecodable(data, "not UTF-8, CP932 or EUC-JP")]


def _decodes(raw: bytes, codec: str) -> bool:
    return _try_decode(raw, codec) is not None


def _try_decode(raw: bytes, codec: str) -> str | None:
    try:
        return raw.decode(codec)
    except UnicodeDecodeError:
        return None


def _decode_lines(data: bytes, bad: list[Problem]):
    """Decode line by line: a line with invalid UTF-8 goes to ``bad``, the rest of the file is kept."""
    offset = 0
    for lineno, raw in enumerate(data.splitlines(keepends=True), 1):
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as e:
            yield "\n" if raw.endswith(b"\n") else ""
            bad.append(Problem(C.QUARANTINE_INVALID_UTF8, f"byte {e.start}: {e.reason}", lineno, offset, raw))
        offset += len(raw)
