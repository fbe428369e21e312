"""Which pages a digest item cites, under which name and address, in which order.

An editor cites the original at its canonical address, credits the outlet by name,
lists syndicated copies as "also carried by", and never cites a page that had no text
(a PDF served as HTML, a paywall stub): the reader would find nothing there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlsplit

from .records import ArticleRow, Source, StoryBundle
from .render import plain
from .text import prose

MIN_CITED_WORDS = 25  # a page with fewer words of text (or feed summary) is not a source
_HOSTLIKE = re.compile(r"^(?:[\w-]+\.)+[a-z]{2,}(?::\d+)?$|^\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?$|^\[?[0-9a-f:]+\]?$", re.I)


def outlet_name(article: ArticleRow) -> str:
    """The outlet to credit: the name the sources file gave, else the page's own site name, else the host.

    The one place the digest guesses an outlet (the ingest stages own ``articles.outlet``);
    a name that is itself a host ("127.0.0.1", "example.com") counts as no name."""
    for name in (article.outlet, article.sitename):
        if name and name.strip() and not _HOSTLIKE.match(name.strip()):
            return name.strip()
    host = urlsplit(cited_url(article)).hostname or urlsplit(article.url).hostname or "unknown"
    return host.removeprefix("www.")


def cited_url(article: ArticleRow) -> str:
    """The canonical URL (tracking parameters gone, the page's own canonical) when it is a web address."""
    c = article.canonical_url or ""
    return c if c.startswith(("http://", "https://")) else article.url


def citable(article: ArticleRow) -> bool:
    """True when the page had text a reader would find (or at least a feed summary of it)."""
    for body in (article.text, article.description):
        if body and len(prose(body).split()) >= MIN_CITED_WORDS:
            return True
    return False


def short_title(title: str, limit: int = 160) -> str:
    """A source's title for the numbered list; some feeds put a whole paragraph there."""
    t = plain(prose(title), 2000)
    if len(t) <= limit:
        return t
    cut = t.rfind(" ", 0, limit - 1)
    return t[: cut if cut > limit // 2 else limit - 1].rstrip(" ,;:") + "…"


def _group_original(original: ArticleRow, copies: Sequence[ArticleRow]) -> tuple[ArticleRow, list[ArticleRow]]:
    """The copy published first is the original (dedup keeps whichever it saw first)."""
    group = sorted([original, *copies], key=lambda r: (r.at, r.id))
    texts = [g for g in group if citable(g)]
    first = texts[0] if texts else group[0]
    return first, [g for g in group if g is not first]


def story_sources(bundle: StoryBundle, window: tuple[datetime, datetime]) -> list[Source]:
    """Numbered sources: one per cited original (the first publisher of each text), oldest first,
    with the outlets of its syndicated copies; pages without text are left out."""
    picked = []
    for art in bundle.articles:
        first, rest = _group_original(art, bundle.copies.get(art.id, []))
        if not citable(first):
            continue
        picked.append((first, rest, window[0] <= first.at < window[1]))
    picked.sort(key=lambda t: (t[0].at, t[0].id))
    out = []
    for n, (art, rest, new) in enumerate(picked, 1):
        own = outlet_name(art)
        also = list(dict.fromkeys(o for o in (outlet_name(r) for r in rest) if o != own))
        out.append(Source(n=n, outlet=own, title=short_title(art.title or cited_url(art)), url=cited_url(art),
                          article_id=art.id, new=new, also_carried_by=also,
                          member_ids=sorted([art.id, *(r.id for r in rest)])))
    return out


def independent_outlets(sources: Sequence[Source]) -> list[str]:
    """Outlets with their own text in the story; reprints of another outlet's text do not count."""
    return list(dict.fromkeys(s.outlet for s in sources))
