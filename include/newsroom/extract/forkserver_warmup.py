"""Imported by the extraction forkserver only (``set_forkserver_preload``, see
:mod:`newsroom.extract.pool`): extracts one small built-in page, so that every worker
forked from the forkserver starts with warm caches.

A worker's first pages cost about twice the CPU of later ones (~90 ms over the first
five benchmark pages): compiled regexes and the memo caches of trafilatura, htmldate and
courlan fill up on first use. Filling them once in the forkserver (~60 ms, while the
task is still fetching its feed) means no worker pays it on the cold path. Caches only
memoise, so results are the same. A failure here must never stop the forkserver.
"""

from __future__ import annotations

_PAGE = (
    "<html lang='en'><head><title>Warm-up</title><meta property='og:site_name' content='Warm-up'>"
    "<meta name='author' content='Ada Lovelace'><link rel='canonical' href='/news/warm-up'></head><body>"
    "<nav><a href='/'>Home</a></nav><article><h1>Warm-up</h1><time datetime='2026-03-03'>3 March 2026</time>"
    + "".join(f"<p>Paragraph {k}: the council voted on the plan after hearing residents, engineers and "
              f"the transport authority in a long session on 3 March 2026.</p>" for k in range(8))
    + "</article><footer>Footer</footer></body></html>"
).encode()


def warm_up() -> None:
    from newsroom.extract.page import FetchedPage, extract_fetched

    # the second page names its author only in a byline, so the body search warms up too
    bylined = _PAGE.replace(b"<meta name='author' content='Ada Lovelace'>", b"").replace(
        b"<article>", b"<article><p class='byline'>By Ada Lovelace</p>")
    for page, need_date, fallback in ((_PAGE, False, "<p>Summary</p>"), (bylined, True, None)):
        extract_fetched(FetchedPage(url="https://warm-up.example/news/warm-up", body=page,
                                    content_type="text/html; charset=utf-8", feed_fallback=fallback,
                                    need_date=need_date))


try:
    warm_up()
except Exception:  # pragma: no cover - a cold cache is slower, never wrong
    pass
