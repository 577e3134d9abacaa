"""Open a JSONL file, plain or gzip/zstd compressed, so that a damaged stream is detected.

A truncated or corrupt ``.zst`` file must be reported, not read as a shorter file: zstandard's
``stream_reader`` ends quietly on a truncated file, so :class:`_ZstdRaw` decompresses frame by
frame and raises at a cut-short last frame. Reading a stream from :func:`open_stream` may raise
any of :data:`STREAM_ERRORS`; :func:`stream_detail` names the damage for the quarantine record.
"""

from __future__ import annotations

import gzip
import io
import zlib

ZSTD_READ = 1 << 17  # compressed bytes per step: bounds what one step can inflate to


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


STREAM_ERRORS = (OSError, EOFError, ValueError, zlib.error, _StreamError)


def open_stream(path: str):
    """A binary file object for ``path``, decompressed by its ``.gz`` or ``.zst`` suffix."""
    if path.lower().endswith(".gz"):
        return gzip.open(path, "rb")
    if path.lower().endswith(".zst"):
        return io.BufferedReader(_ZstdRaw(path))
    return open(path, "rb")


def stream_detail(e: Exception, path: str) -> str:
    """The quarantine detail for one of :data:`STREAM_ERRORS` raised reading ``path``."""
    if isinstance(e, _StreamError):
        return str(e)
    if not path.lower().endswith(".gz"):
        return type(e).__name__
    if isinstance(e, EOFError):
        return "truncated gzip stream"
    return f"corrupt gzip stream ({type(e).__name__})"  # BadGzipFile, zlib.error
