"""Digest Markdown → HTML that is safe to put in the operator page.

A digest quotes the open web (titles, summaries, Reddit comments, LLM output).
The digest stage already escapes what it writes, but the page does not rely
on that: a row edited by hand, an older renderer or a bug upstream must not
turn into live markup here. So the renderer is markdown-it-py with raw HTML
off (``<script>`` stays text), images off (no remote fetches, no ``onerror``),
links limited to http(s)/mailto/relative targets (no ``javascript:``,
``data:``, ``vbscript:``), Obsidian ``[[wikilinks]]`` shown as inert text, and
YAML front matter dropped (the page shows those fields from the row itself).
Everything else is escaped by markdown-it's own renderer.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_inline import StateInline

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n.*?\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)
# Characters browsers drop or ignore inside a URL scheme ("java\tscript:", "\x00javascript:").
_URL_NOISE = re.compile(r"[\x00-\x20\x7f]+")


def safe_link(url: str) -> bool:
    """True for http(s), mailto and scheme-less (relative or fragment) targets only."""
    cleaned = _URL_NOISE.sub("", url)
    if ":" not in cleaned.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]:
        return True  # no scheme before the first "/", "?" or "#": relative
    try:
        scheme = urlsplit(cleaned).scheme.lower()
    except ValueError:
        return False
    return scheme in SAFE_SCHEMES


def _wikilink(state: StateInline, silent: bool) -> bool:
    """``[[Target]]`` / ``[[Target|Alias]]`` as one inert token (no nested syntax, one line)."""
    src, pos = state.src, state.pos
    if not src.startswith("[[", pos):
        return False
    end = src.find("]]", pos + 2)
    inner = src[pos + 2:end] if end >= 0 else ""
    if not inner.strip() or "\n" in inner or "[" in inner or "]" in inner:
        return False
    if not silent:
        target, _, alias = inner.partition("|")
        token = state.push("wikilink", "span", 0)
        token.content = (alias or target).strip()
        token.meta = {"target": target.strip()}
    state.pos = end + 2
    return True


def _render_wikilink(self, tokens, idx, options, env) -> str:
    tok = tokens[idx]
    return (f'<span class="wikilink" title="{escapeHtml(tok.meta["target"])}">'
            f"{escapeHtml(tok.content)}</span>")


def _render_link_open(self, tokens, idx, options, env) -> str:
    # External news links open outside the Airflow frame, without a Referer or window.opener.
    tokens[idx].attrSet("target", "_blank")
    tokens[idx].attrSet("rel", "noopener noreferrer nofollow")
    return self.renderToken(tokens, idx, options, env)


def build_renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.disable("image")
    md.validateLink = safe_link
    md.inline.ruler.before("link", "wikilink", _wikilink)
    md.add_render_rule("wikilink", _render_wikilink)
    md.add_render_rule("link_open", _render_link_open)
    return md


_MD = build_renderer()


def strip_front_matter(text: str) -> str:
    return _FRONT_MATTER.sub("", text, count=1)


def render_markdown(text: str | None) -> str:
    """Safe HTML for a digest's Markdown (front matter dropped)."""
    return _MD.render(strip_front_matter(text or ""))
