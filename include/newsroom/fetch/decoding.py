"""Content-Encoding decoders that never produce more than a given number of bytes.

httpx's own decoders inflate each network chunk completely; one 64 KiB chunk of a gzip
bomb inflates to ~64 MiB before anyone can count it. These decoders take an output
budget and stop there (zlib ``max_length``, brotli ``output_buffer_limit``), so memory
stays bounded by the cap no matter how the body was compressed.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

try:  # brotli is optional: without it we simply do not advertise "br".
    import brotli
except ImportError:  # pragma: no cover - exercised only where brotli is absent
    brotli = None

__all__ = ["TooLarge", "DecodingFailed", "BoundedBody", "accept_encoding"]

_STEP = 256 * 1024  # decode in slices so even the allowed output is produced incrementally


class TooLarge(Exception):
    """The decoded body would exceed its cap."""


class DecodingFailed(Exception):
    """The body is not valid for its Content-Encoding (or the encoding is unknown)."""


def accept_encoding() -> str:
    """The Accept-Encoding header matching the decoders available here."""
    return "gzip, deflate, br" if brotli is not None else "gzip, deflate"


# Decoders return at most ``limit + 1`` bytes per call; one byte past the limit is how
# they say "there is more than allowed" without producing (or holding) all of it.


class _Identity:
    def decode(self, data: bytes, limit: int) -> bytes:
        return data[: limit + 1]

    def flush(self, limit: int) -> bytes:
        return b""


class _Zlib:
    """gzip (possibly multi-member) or deflate (zlib-wrapped, or raw as some servers send)."""

    def __init__(self, kind: str):
        self.kind = kind
        self._raw_fallback = kind == "deflate"
        self._started = False
        self._d = self._new()

    def _new(self):
        return zlib.decompressobj(16 + zlib.MAX_WBITS if self.kind == "gzip" else zlib.MAX_WBITS)

    def decode(self, data: bytes, limit: int) -> bytes:
        out = bytearray()
        pending = data
        while True:
            budget = limit - len(out)
            try:
                piece = self._d.decompress(pending, min(budget + 1, _STEP))
            except zlib.error as exc:
                if self._raw_fallback and not self._started:
                    # "deflate" is often sent raw (no zlib header): retry once that way.
                    self._raw_fallback = False
                    self._d = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise DecodingFailed(f"invalid {self.kind} data: {exc}") from exc
            self._started = True
            out += piece
            if len(out) > limit:
                return bytes(out)
            if self._d.unconsumed_tail:
                pending = self._d.unconsumed_tail
                continue
            if self._d.eof and self._d.unused_data and self.kind == "gzip":
                pending = self._d.unused_data  # next gzip member
                self._d = self._new()
                continue
            return bytes(out)

    def flush(self, limit: int) -> bytes:
        # A truncated stream keeps what was decoded so far: the extractor can still use it.
        try:
            rest = self._d.flush(limit + 1)
        except zlib.error:
            return b""
        return rest[: limit + 1]


class _Brotli:
    def __init__(self):
        self._d = brotli.Decompressor()

    def decode(self, data: bytes, limit: int) -> bytes:
        out = bytearray()
        try:
            piece = self._d.process(data, output_buffer_limit=min(limit + 1, _STEP))
            out += piece
            while len(out) <= limit and not self._d.can_accept_more_data():
                out += self._d.process(b"", output_buffer_limit=min(limit - len(out) + 1, _STEP))
        except brotli.error as exc:
            raise DecodingFailed(f"invalid br data: {exc}") from exc
        return bytes(out)

    def flush(self, limit: int) -> bytes:
        return b""


def _decoder_for(token: str) -> Callable[[], object]:
    if token in ("", "identity"):
        return _Identity
    if token in ("gzip", "x-gzip"):
        return lambda: _Zlib("gzip")
    if token == "deflate":
        return lambda: _Zlib("deflate")
    if token == "br" and brotli is not None:
        return _Brotli
    raise DecodingFailed(f"unsupported Content-Encoding {token!r}")


class BoundedBody:
    """Accumulates a response body through its Content-Encoding chain, capped at ``limit``.

    ``feed`` raises :class:`TooLarge` as soon as the decoded size would pass the cap and
    :class:`DecodingFailed` on corrupt data; ``finish`` returns the body. With
    ``truncate=True`` the first ``limit`` bytes are kept when :class:`TooLarge` is raised
    (``body`` then holds that prefix) — for error pages, which are only informational.
    """

    def __init__(self, content_encoding: str | None, limit: int, truncate: bool = False):
        tokens = [t.strip().lower() for t in (content_encoding or "").split(",") if t.strip()]
        # Codings are listed in the order they were applied: undo them in reverse.
        self._chain = [_decoder_for(t)() for t in reversed(tokens)] or [_Identity()]
        self.limit = limit
        self.truncate = truncate
        self._buf = bytearray()

    def _through(self, data: bytes, start: int = 0) -> bytes:
        room = self.limit - len(self._buf)
        last = len(self._chain) - 1
        for i in range(start, len(self._chain)):
            if not data:
                return b""
            data = self._chain[i].decode(data, room)
            if i < last and len(data) > room:
                # An inner coding already exceeds the cap (and kept input back): stop here.
                raise TooLarge
        return data

    def _add(self, out: bytes) -> None:
        room = self.limit - len(self._buf)
        if len(out) > room:
            if self.truncate:
                self._buf += out[:room]
            raise TooLarge
        self._buf += out

    def feed(self, chunk: bytes) -> None:
        self._add(self._through(chunk))

    def finish(self) -> bytes:
        for i, dec in enumerate(self._chain):
            tail = dec.flush(self.limit - len(self._buf))
            self._add(self._through(tail, i + 1))
        return bytes(self._buf)

    @property
    def body(self) -> bytes:
        """What has been decoded so far (the kept prefix after a truncating TooLarge)."""
        return bytes(self._buf)

    @property
    def size(self) -> int:
        return len(self._buf)
