"""Markdown for the vault: escaping of untrusted text and the Jinja templates.

Everything shown in a note — titles, summaries, comments, LLM output — comes
from the open web, so it is treated as untrusted: control and bidi
characters are removed, whitespace collapsed (one value = one line),
Markdown/HTML/Obsidian syntax characters backslash-escaped (no raw HTML, no
``[[wikilink]]`` or ``![[embed]]`` injection, no ``$math$`` or ``%%comment%%``),
long values cut, and front matter is produced by ``yaml.safe_dump`` only.
The templates apply these filters explicitly (``| md``, ``| url``); a test
renders hostile input through every template.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from .vault import strip_unsafe_chars

TEMPLATES = Path(__file__).resolve().parent / "templates"

# CommonMark lets any ASCII punctuation be backslash-escaped; these are the ones that
# start syntax in Markdown, HTML or Obsidian (wikilinks, embeds, tags, math, comments,
# highlights, block references, footnotes).
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~$^])")
_DOUBLED = re.compile(r"([%=])\1+")  # "%%comment%%" and "==highlight==" need two in a row
_LINE_START = re.compile(r"^(\s*)(?:([-+>:])|(\d+)([.)]))")
TITLE_LIMIT = 300


def inline(text: Any, limit: int = 2000) -> str:
    """Untrusted text as one safe line of Markdown."""
    if text is None:
        return ""
    s = strip_unsafe_chars(str(text))
    s = re.sub(r"\s+", " ", s).strip()
    if len(s) > limit:
        cut = s.rfind(" ", 0, limit - 1)
        s = s[: cut if cut > limit // 2 else limit - 1].rstrip() + "…"
    s = _MD_SPECIAL.sub(r"\\\1", s)
    s = _DOUBLED.sub(lambda m: ("\\" + m.group(1)) * len(m.group(0)), s)
    # "- x", "> x", "1. x" at the start would open a list or quote: escape the marker itself
    s = _LINE_START.sub(
        lambda m: m.group(1) + ("\\" + m.group(2) if m.group(2) else m.group(3) + "\\" + m.group(4)), s)
    return s


def title_text(text: Any) -> str:
    return inline(text, TITLE_LIMIT)


def plain(text: Any, limit: int = TITLE_LIMIT) -> str:
    """Untrusted text cleaned for YAML values and link aliases (no Markdown escaping)."""
    if text is None:
        return ""
    s = re.sub(r"\s+", " ", strip_unsafe_chars(str(text))).strip()
    return s[:limit]


def safe_url(url: Any) -> str | None:
    """An http(s) URL safe to put in ``[text](url)``, or None (javascript:, data:, garbage)."""
    if not url:
        return None
    s = strip_unsafe_chars(str(url)).strip()
    try:
        parts = urlsplit(s)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    safe = "/:@!$&'*+,;=-._~%?#"
    path = quote(parts.path, safe=safe.replace("?", "").replace("#", ""))
    query = quote(parts.query, safe=safe.replace("#", ""))
    frag = quote(parts.fragment, safe=safe)
    netloc = quote(parts.netloc, safe=":@[]-._~%")
    out = urlunsplit((parts.scheme.lower(), netloc, path, query, frag))
    # Parentheses, angle brackets and spaces would end the Markdown link early.
    return out.replace("(", "%28").replace(")", "%29").replace("<", "%3C").replace(">", "%3E").replace(" ", "%20")


def link(text: Any, url: Any) -> str:
    """``[text](url)``, or just the text when the URL is not a safe http(s) URL."""
    label = inline(text, TITLE_LIMIT) or "link"
    u = safe_url(url)
    return f"[{label}]({u})" if u else label


def wikilink(target: str, alias: str | None = None) -> str:
    """``[[target]]`` / ``[[target|alias]]``; ``target`` must already be a :func:`safe_name`."""
    if re.search(r"[\[\]|#^]", target):
        raise ValueError(f"unsafe wikilink target {target!r}")
    if alias is None or alias == target:
        return f"[[{target}]]"
    # Inside [[…]] backslash escapes don't work: drop what could close the link or open HTML.
    a = re.sub(r"\s+", " ", re.sub(r"[\[\]|#^<>`$%=]", " ", plain(alias, 200))).strip()
    return f"[[{target}|{a}]]" if a and a != target else f"[[{target}]]"


def front_matter(data: dict) -> str:
    """YAML front matter via ``yaml.safe_dump`` (no tags, no anchors, one value per key)."""
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=10**6)
    return f"---\n{body}---\n"


def tag(text: str) -> str:
    """An Obsidian tag: letters, digits, ``-``, ``_``, ``/``; never only digits."""
    t = re.sub(r"[^\w/-]+", "-", plain(text, 80).lower(), flags=re.UNICODE).strip("-/")
    if not t:
        return "untagged"
    return t if not t.isdigit() else f"n{t}"


def number(n: Any) -> str:
    try:
        return f"{int(n):,}"
    except (TypeError, ValueError):
        return "0"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=False,  # Markdown, not HTML: escaping is explicit through the filters below
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md=inline, title=title_text, url=safe_url, link=link, number=number, wikilink=wikilink)
    env.globals.update(wikilink=wikilink, link=link)
    return env


def render(template: str, **context: Any) -> str:
    """Render ``templates/<template>``; blank-line runs are collapsed for stable output."""
    text = environment().get_template(template).render(**context)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.rstrip("\n") + "\n"
