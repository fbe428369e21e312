"""Small hand-written HTML pages for the extraction tests."""

from __future__ import annotations

PARAGRAPHS = [
    "The city council voted on Tuesday to expand the tram network by four new lines, a decision that "
    "followed two years of public consultation and a heated debate about the cost of the project.",
    "Supporters argued that the extension would cut commuting times for more than forty thousand residents "
    "in the northern districts, who currently rely on crowded buses that are often delayed in traffic.",
    "Opponents said the budget of nearly one billion euros could be better spent on repairing existing roads "
    "and bridges, several of which have been closed for safety inspections since last winter.",
    "Construction is expected to begin next spring and to last about six years, with the first line opening "
    "to passengers before the end of the decade if the contractors keep to the schedule.",
]


def article_page(
    *,
    title: str = "Council approves tram network expansion",
    paragraphs: list[str] | None = None,
    head: str = "",
    lang: str | None = "en",
    charset: str = "utf-8",
) -> bytes:
    body = "\n".join(f"<p>{p}</p>" for p in (PARAGRAPHS if paragraphs is None else paragraphs))
    lang_attr = f' lang="{lang}"' if lang else ""
    return f"""<!DOCTYPE html>
<html{lang_attr}><head><meta charset="{charset}"><title>{title} | The Daily Example</title>{head}</head>
<body>
<header><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav></header>
<main><article>
<h1>{title}</h1>
{body}
</article></main>
<footer><p>Copyright The Daily Example. All rights reserved.</p></footer>
</body></html>""".encode(charset)


NAV_ONLY = b"""<!DOCTYPE html><html><head><title>Subscribe</title></head><body>
<nav><a href="/">Home</a> <a href="/a">A</a> <a href="/b">B</a></nav>
<div class="paywall">Subscribe</div></body></html>"""

FEED_CONTENT = "<p>" + "</p><p>".join(PARAGRAPHS) + "</p><p>Read more at <a href='/x'>the site</a>.</p>"
