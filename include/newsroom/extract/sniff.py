"""Is this body a page at all, and what must go before a parser sees it.

A page is "not HTML" only by a real binary signature at its start (the magic
numbers of images, PDFs, archives, fonts, media: the WHATWG MIME Sniffing
table), never because a stray control byte turned up in it: CMS templates and
copy-pasted text leak NULs and other C0 controls into otherwise fine pages, and
one such byte used to discard the whole page. libxml2 also stops reading at a
NUL, so those bytes are removed before parsing (``strip_control_bytes``).

UTF-16/UTF-32 pages are full of NULs by construction; they are recognised (BOM,
or NULs on every other byte) and left untouched.
"""

from __future__ import annotations

__all__ = ["BINARY_SIGNATURES", "looks_binary", "strip_control_bytes"]

# Leading bytes of non-text formats (WHATWG MIME Sniffing §7.1–7.3: images, audio/video,
# archives, fonts) plus PDF/PostScript; two-letter ones (BMP's "BM", "MZ") are left out,
# since a text body can start with them. Whitespace before them is tolerated.
BINARY_SIGNATURES = (
    b"%PDF-", b"%!PS-Adobe-", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"\xff\xd8\xff",
    b"\x00\x00\x01\x00", b"\x00\x00\x02\x00", b"RIFF", b"OggS", b"ID3", b"\x1aE\xdf\xa3", b"fLaC",
    b"PK\x03\x04", b"\x1f\x8b\x08", b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c", b"wOFF", b"wOF2",
    b"\x00\x01\x00\x00", b"OTTO", b"ttcf", b"\x7fELF",
)
_BOMS_WIDE = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
# C0 controls that have no business in HTML. Kept: TAB, LF, FF, CR (whitespace) and
# ESC, which ISO-2022-JP needs for its shift sequences.
_CONTROL_BYTES = bytes(b for b in range(0x20) if b not in (0x09, 0x0A, 0x0C, 0x0D, 0x1B)) + b"\x7f"
_WHITESPACE = b" \t\n\r\x0c"


def _is_wide_unicode(head: bytes) -> bool:
    """UTF-16/32 text: a BOM, or NULs on at least a third of the bytes (every other one for ASCII)."""
    if head.startswith(_BOMS_WIDE):
        return True
    return len(head) >= 4 and head.count(b"\x00") * 3 >= len(head)


def looks_binary(body: bytes) -> bool:
    """True when ``body`` starts with the signature of a binary format (after whitespace)."""
    head = body[:1024].lstrip(_WHITESPACE)
    return head.startswith(BINARY_SIGNATURES)


def strip_control_bytes(body: bytes) -> bytes:
    """``body`` without C0 control bytes (NUL, BEL, …) except whitespace and ESC; wide-Unicode
    bodies (where NULs are half of every character) are returned unchanged.

    Safe for every ASCII-compatible encoding: in UTF-8, the legacy single-byte
    sets and the CJK double-byte sets, bytes below 0x20 are never part of a
    multi-byte character.
    """
    if _is_wide_unicode(body[:1024]):
        return body
    return body.translate(None, _CONTROL_BYTES)
