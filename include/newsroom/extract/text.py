"""HTML fragments (feed content, summaries, titles) → plain text.

trafilatura is built for whole pages and rejects single-block fragments, and
feed HTML is already the article body, so a plain lxml walk that keeps block
boundaries as line breaks is all that is needed here.
"""

from __future__ import annotations

import html as _html
import re

import lxml.etree
import lxml.html

# Elements whose end is a paragraph break in the text.
_BLOCKS = frozenset(
    "address article aside blockquote dd details div dl dt figcaption figure footer form h1 h2 h3 h4 h5 h6 "
    "header hr li main nav ol p pre section summary table tbody thead tfoot tr ul".split()
)
_DROP = frozenset(("script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "math"))
_TAG_LIKE = re.compile(r"<[A-Za-z/!][^>]*>")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u200b]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def looks_like_html(text: str) -> bool:
    """True when ``text`` contains something shaped like a tag (``<p>``, ``</a>``, ``<!--``)."""
    return bool(_TAG_LIKE.search(text))


def html_to_text(fragment: str | None) -> str:
    """Readable text of an HTML fragment: tags dropped, entities decoded, one blank
    line between blocks, ``<br>`` as a line break, scripts and styles removed.

    Plain text (no tag-like markup) is only unescaped and whitespace-normalised,
    so ``"a < b"`` survives. Never raises: unparsable input falls back to a
    regex strip.
    """
    if not fragment:
        return ""
    if not looks_like_html(fragment):
        return _normalise(_html.unescape(fragment))
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (lxml.etree.ParserError, ValueError, TypeError):
        return _normalise(_html.unescape(_TAG_LIKE.sub(" ", fragment)))
    parts: list[str] = []
    _walk(root, parts)
    return _normalise("".join(parts))


def _walk(el, parts: list[str]) -> None:
    tag = el.tag if isinstance(el.tag, str) else ""
    tag = tag.lower()
    if tag in _DROP or not isinstance(el.tag, str):
        # Comments and processing instructions: keep only the text after them.
        if el.tail:
            parts.append(el.tail)
        return
    if tag == "br":
        parts.append("\n")
    block = tag in _BLOCKS
    if block:
        parts.append("\n\n")
    if el.text:
        parts.append(el.text)
    for child in el:
        _walk(child, parts)
    if block:
        parts.append("\n\n")
    elif tag in ("td", "th"):
        parts.append(" ")
    if el.tail:
        parts.append(el.tail)


def _normalise(text: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
