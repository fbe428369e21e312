"""Charset labels → text, the way browsers do it (WHATWG Encoding Standard).

A declared charset (HTTP ``charset=``, an XML declaration, ``<meta charset>``)
is a *label*; the Encoding Standard maps every label browsers accept to one
encoding (``latin1``, ``iso-8859-1`` and ``us-ascii`` are all windows-1252;
``gb2312`` is gbk; ``x-sjis`` is Shift_JIS, …). ``webencodings`` holds that
table. Python's own codecs differ from the standard's decoders in two ways that
matter on real feeds, both fixed here:

* a few encodings are narrower than what the standard decodes under that name
  (gbk → gb18030, euc-kr → cp949, Shift_JIS → cp932, Big5 → Big5-HKSCS);
* Python's windows-125x tables leave some bytes undefined (0x81, 0x8D, 0x8F,
  0x90, 0x9D in windows-1252) and refuse the whole document when one occurs;
  the standard maps them to the C1 control of the same value. A declared
  windows-1252 feed with one such byte used to fall through to detection and
  come out as cp1257 ("simulaēões").

So a declared, known label is obeyed, and decoding never fails: bytes that are
invalid for it become U+FFFD, as in a browser. Detection is for documents that
declare nothing (or only a label nobody knows).
"""

from __future__ import annotations

import codecs
import re
from email.message import Message

import webencodings

__all__ = ["whatwg_encoding", "python_codec", "decode_bytes", "strictly_decodes", "html_encoding", "html_as_utf8"]

# Standard decoders that are supersets of the Python codec of the same name.
_WIDER = {"gbk": "gb18030", "gb18030": "gb18030", "euc-kr": "cp949", "shift_jis": "cp932", "big5": "big5hkscs"}
# Two standard encodings have no Python codec: "replacement" (labels of ISO-2022-KR, HZ, …) decodes
# any input to one U+FFFD; "x-user-defined" maps 0x80–0xFF to U+F780–U+F7FF.
_ERRORS = "newsroom-whatwg"
_STRICT = "newsroom-whatwg-strict"


def _c1_or_replace(exc: UnicodeError):
    """Undefined bytes 0x80–0x9F of a single-byte table are the C1 controls of the same value
    (what the standard's windows-125x indexes hold); anything else is U+FFFD."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start:exc.end]
    if len(bad) == 1 and 0x80 <= bad[0] <= 0x9F and _is_single_byte(exc.encoding):
        return chr(bad[0]), exc.end
    return "\ufffd", exc.end


def _is_single_byte(codec_name: str) -> bool:
    # Python's single-byte codecs (cp125x, iso8859-x, koi8, mac-…) are all charmap codecs and report
    # their errors as "charmap".
    return codec_name == "charmap"


def _c1_or_fail(exc: UnicodeError):
    if isinstance(exc, UnicodeDecodeError):
        bad = exc.object[exc.start:exc.end]
        if len(bad) == 1 and 0x80 <= bad[0] <= 0x9F and _is_single_byte(exc.encoding):
            return chr(bad[0]), exc.end
    raise exc


codecs.register_error(_ERRORS, _c1_or_replace)
codecs.register_error(_STRICT, _c1_or_fail)


def whatwg_encoding(label: str | None) -> str | None:
    """The Encoding Standard's name for ``label`` (``"Latin-1"`` → ``"windows-1252"``), or None
    when the label is unknown. Surrounding whitespace and quotes are ignored."""
    if not label:
        return None
    enc = webencodings.lookup(label.strip().strip("'\""))
    return enc.name if enc is not None else None


def python_codec(encoding: str) -> str:
    """The Python codec that decodes what the standard decodes under ``encoding`` (a WHATWG name)."""
    if encoding in _WIDER:
        return _WIDER[encoding]
    enc = webencodings.lookup(encoding)
    if enc is None:
        raise LookupError(f"unknown encoding {encoding!r}")
    if enc.name == "x-user-defined":
        return "x-user-defined"
    return enc.codec_info.name


def _codec_for(encoding: str) -> str:
    """A WHATWG label's widened codec; a name that is no label (``utf-16-be``, ``cp932``) as Python knows it."""
    name = whatwg_encoding(encoding)
    return python_codec(name) if name is not None else codecs.lookup(encoding).name


def decode_bytes(body: bytes, encoding: str) -> str:
    """``body`` decoded as ``encoding`` (a WHATWG label, or a Python codec name); never
    raises on bad bytes (U+FFFD), only on an unknown encoding (LookupError)."""
    name = whatwg_encoding(encoding) or encoding
    if name == "replacement":
        return "\ufffd" if body else ""
    if name == "x-user-defined":
        return "".join(chr(b) if b < 0x80 else chr(0xF780 + b - 0x80) for b in body)
    return body.decode(_codec_for(encoding), errors=_ERRORS)


def strictly_decodes(body: bytes, encoding: str) -> bool:
    """True when every byte of ``body`` is valid in ``encoding`` (a C1 byte of a
    single-byte table counts as valid, as the standard defines it)."""
    name = whatwg_encoding(encoding) or encoding
    if name in ("replacement", "x-user-defined"):
        return name == "x-user-defined"
    try:
        body.decode(_codec_for(encoding), errors=_STRICT)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


# --------------------------------------------------------------------------- HTML pages

_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
# <meta charset=x> and <meta http-equiv=Content-Type content="text/html; charset=x">, in the head.
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([A-Za-z0-9._:-]{1,40})""", re.IGNORECASE)
# The standard's prescan reads 1024 bytes; real heads often put the tag after long scripts.
PRESCAN_BYTES = 4096


def header_charset(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type header value, or None."""
    if not content_type:
        return None
    msg = Message()
    msg["content-type"] = content_type
    value = msg.get_param("charset")
    return value if isinstance(value, str) else None


def html_encoding(body: bytes, content_type: str | None = None) -> tuple[str | None, str | None]:
    """(codec, how) for an HTML page: a BOM; bytes that are valid UTF-8; the HTTP charset; the
    page's ``<meta charset>``; else (None, None): nothing usable is declared, detect.

    The order is the feed parser's (valid UTF-8 beats a declaration, since server defaults
    such as ``charset=iso-8859-1`` on UTF-8 pages are common); a declared UTF-8 the bytes
    contradict is no declaration.
    """
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return codec, "bom"
    if strictly_decodes(body, "utf-8"):
        return "utf-8", "utf-8"
    m = _META_CHARSET.search(body[:PRESCAN_BYTES])
    for label, how in ((header_charset(content_type), "http"), (m.group(1).decode("ascii") if m else None, "meta")):
        enc = whatwg_encoding(label)
        if enc and enc not in ("utf-8", "replacement", "x-user-defined") and not enc.startswith("utf-16"):
            return python_codec(enc), how
    return None, None


def html_as_utf8(body: bytes, content_type: str | None = None) -> bytes:
    """The page re-encoded as UTF-8 when its charset is known (see :func:`html_encoding`);
    unchanged otherwise, for the extractor's own detection. The extractor reads valid
    UTF-8 as UTF-8 and never looks at the declaration, so this is where it is honoured."""
    codec, how = html_encoding(body, content_type)
    if codec is None or how == "utf-8":
        return body
    text = decode_bytes(body, codec)
    return text.lstrip("\ufeff").encode("utf-8")
