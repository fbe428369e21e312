"""Hostile text from feeds and Reddit into the warehouse and the Markdown vault.

Feed titles, authors and summaries and Reddit titles and comments carrying Markdown,
HTML, ``[[wikilinks]]``, front-matter fences, ``../``, NUL bytes, bidi overrides and a
100 kB title go through the real path — ``ingest_feed`` / ``ingest_subreddit`` →
``process_new_articles`` → ``build_daily_digest`` — and the notes written are checked:
one YAML front matter with our keys only, no raw HTML, no live wikilinks or embeds, no
control or bidi characters, lines cut, every file inside the vault. SQL-looking text is
stored and read back verbatim (bound parameters only).
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import inspect, select

from newsroom.config.sources import FeedSource, RedditConfig, SourcesFile, SubredditSource
from newsroom.pipeline.digest import build_daily_digest
from newsroom.pipeline.ingest import ingest_feed
from newsroom.pipeline.process import process_new_articles
from newsroom.pipeline.reddit import ingest_subreddit
from newsroom.reddit.client import reset_process_state
from newsroom.warehouse.schema import Article, FeedEntryRow
from newsroom.warehouse.schema.reddit import RedditComment, RedditPost
from tests.reliability.helpers import T0, article_html, entries, rss, rss_item

DAY = date(2026, 4, 9)
SQL = "Robert'); DROP TABLE articles; -- %s :title ? $1 \\x00"
HUGE = "Huge " + "word " * 20_000  # 100 kB
HOSTILE_TITLES = {
    "sql": SQL,
    "wikilink": "OpenAI [[Secret note]] and ![[private.png]] embed",
    "html": "<script>alert(1)</script><img src=x onerror=alert(2)> OpenAI",
    "markdown": "**OpenAI** [click](javascript:alert(1)) # not a heading | table | `code`",
    "fence": "---\ntitle: pwned\ntags: [evil]\n--- OpenAI",
    "traversal": "../../../../etc/passwd OpenAI",
    "nul": "OpenAI nul\x00byte title",
    "bidi": "OpenAI \u202egnp.exe\u202c bidi",
    "huge": HUGE,
}
HOSTILE_AUTHOR = "[[Evil]] <b>Mallory</b> \u202e ../../x"
HOSTILE_COMMENTS = [
    "---\ntitle: pwned\n---\n[[Secret]] <script>alert('c')</script> ![[x.png]]",
    "# Heading\n> quote\n- list \u202eevil\x00 [link](javascript:alert(1)) %%hidden%% ==mark==",
]
# Live (unescaped) constructs that must never come out of untrusted text.
FORBIDDEN_IN_NOTES = {
    "raw HTML tag": re.compile(r"(?<!\\)<[A-Za-z/!?]"),
    "script link": re.compile(r"(?<!\\)\]\(\s*(?:javascript|data|vbscript):", re.IGNORECASE),
    "Obsidian comment": re.compile(r"(?<!\\)%%"),
    "NUL or bidi control": re.compile("[\x00\u202a-\u202e\u2066-\u2069]"),
}


def _pages(corpus: Path | None) -> list[bytes]:
    """Distinct real article pages (the corpus's extraction set), one per hostile title,
    so each becomes its own story; synthetic pages when the corpus is absent."""
    if corpus is not None:
        files = sorted((corpus / "extraction" / "html").glob("*.html"))[: len(HOSTILE_TITLES)]
        if len(files) == len(HOSTILE_TITLES):
            return [f.read_bytes() for f in files]
    return [article_html(f"story {i}", seed=i) for i in range(len(HOSTILE_TITLES))]


def _hostile_feed(srv, corpus: Path | None = None) -> str:
    items = []
    pages = _pages(corpus)
    for i, (key, title) in enumerate(HOSTILE_TITLES.items()):
        page = srv.add(f"/news/{key}.html", body=pages[i], content_type="text/html; charset=utf-8")
        # Titles are XML-escaped so their markup arrives as *text*, the dangerous case.
        items.append(rss_item(title, page, guid=f"hostile-{key}", author=HOSTILE_AUTHOR,
                              description=f"OpenAI summary {key}: {title[:200]}",
                              published=T0 - timedelta(minutes=i)))
    srv.add("/robots.txt", body="User-agent: *\nAllow: /\n", content_type="text/plain")
    return srv.add("/hostile.xml", body=rss(items, title="Hostile"), content_type="application/rss+xml")


def _hostile_subreddit(srv) -> None:
    post = {"kind": "t3", "data": {
        "id": "h1", "name": "t3_h1", "subreddit": "evil", "title": "[[Pwn]] <script>x</script> \u202e OpenAI",
        "author": "[[mallory]]", "created_utc": T0.timestamp(), "permalink": "/r/evil/comments/h1/x/",
        "url": srv.url("/news/wikilink.html"), "domain": "127.0.0.1", "is_self": False, "selftext": "",
        "score": 900, "num_comments": len(HOSTILE_COMMENTS), "upvote_ratio": 0.9, "over_18": False,
        "stickied": False}}
    comments = [{"kind": "t1", "data": {
        "id": f"c{i}", "name": f"t1_c{i}", "parent_id": "t3_h1", "link_id": "t3_h1", "body": body,
        "author": "<b>troll</b>[[x]]", "score": 100 - i, "created_utc": T0.timestamp(), "depth": 0, "replies": ""}}
        for i, body in enumerate(HOSTILE_COMMENTS)]
    listing = {"kind": "Listing", "data": {"after": None, "before": None, "children": [post]}}
    thread = [listing, {"kind": "Listing", "data": {"after": None, "before": None, "children": comments}}]
    for path, body in (("/r/evil/hot.json", listing), ("/comments/h1.json", thread)):
        for p in (path, path.removesuffix(".json")):
            srv.add(p, body=json.dumps(body), content_type="application/json")


def _sources(srv, beat: str) -> SourcesFile:
    base = srv.base_url
    return SourcesFile(
        beat=beat, timezone="UTC", feeds=[FeedSource(name="hostile", url=srv.url("/hostile.xml"))],
        reddit=RedditConfig(base_url=base, oauth_base_url=base, token_url=f"{base}/api/v1/access_token",
                            requests_per_minute=60000, oauth_requests_per_minute=60000, max_wait_s=2, timeout_s=5,
                            subreddits=[SubredditSource(name="evil", listing="hot", min_score=0, top_comments=5)]))


def _notes(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


_WIKILINK = re.compile(r"(?<!\\)!?\[\[([^\]|]*)(?:\|[^\]]*)?\]\]")


def _check_note(path: Path, root: Path, note_names: set[str]) -> None:
    assert path.resolve().is_relative_to(root.resolve())
    assert len(path.name.encode()) <= 255
    text = path.read_text(encoding="utf-8")
    for what, pattern in FORBIDDEN_IN_NOTES.items():
        m = pattern.search(text)
        assert m is None, (path.name, what, text[max(0, m.start() - 60): m.end() + 60])
    # Exactly one front matter, a YAML mapping, at the very top, with nothing from the web in it.
    assert text.startswith("---\n")
    fm, _, body = text[4:].partition("\n---\n")
    assert isinstance(yaml.safe_load(fm), dict)
    for fragment in ("pwned", "Secret", "script", "Mallory", "troll", "DROP TABLE"):
        assert fragment not in fm, (path.name, fragment)
    # Every live wikilink in the body is one we made — to a note or a tracked entity: none
    # injected, none broken.
    for target in _WIKILINK.findall(body):
        assert target in note_names, (path.name, target)
    assert "\n---\n" not in body.replace("\n---\n\n", "")  # no second fence a title could open
    assert max(len(line) for line in text.splitlines()) < 5000  # the 100 kB title was cut


@pytest.fixture
def hostile_settings(fast):
    return fast.model_copy(update={"allowed_hosts": ["127.0.0.1"]})


def test_sql_looking_text_is_stored_verbatim(replay_server, hostile_settings, warehouse, record):
    url = _hostile_feed(replay_server)
    sources = SourcesFile(feeds=[FeedSource(name="hostile", url=url)])
    out = ingest_feed("hostile", settings=hostile_settings, run_id="run-1", sources=sources, engine=warehouse, now=T0)
    assert out["status"] == "ok"
    with warehouse.connect() as c:
        tables = set(inspect(c).get_table_names())
        entry = c.execute(select(FeedEntryRow).where(FeedEntryRow.guid == "hostile-sql")).one()
        art = c.execute(select(Article).where(Article.id == entry.article_id)).one()
        by_title = c.execute(select(Article.id).where(Article.title == SQL)).all()  # bound parameter
    assert {"articles", "feed_entries", "sources"} <= tables
    assert entry.title == SQL and art.title == SQL and len(by_title) == 1
    stored = len(entries(warehouse, "hostile"))
    lost = len(HOSTILE_TITLES) - stored
    assert lost == 0
    record("Hostile text", f"title `{SQL.replace(chr(92), '&#92;')}`",
           "stored and read back verbatim in `feed_entries` and `articles` (bound parameters); tables intact",
           lost=lost)


@pytest.mark.corpus
def test_hostile_text_through_the_digest(replay_server, corpus, hostile_settings, warehouse, record):
    reset_process_state()
    srv = replay_server
    _hostile_feed(srv, corpus)
    _hostile_subreddit(srv)
    beat = "../../AI [[Beat]] \u202e|*"
    sources = _sources(srv, beat)
    settings = hostile_settings

    out = ingest_feed("hostile", settings=settings, run_id="run-1", sources=sources, engine=warehouse, now=T0)
    assert out["status"] == "ok", out
    rd = ingest_subreddit("evil", settings=settings, run_key="run-1", sources=sources, engine=warehouse,
                          now=T0 + timedelta(hours=1))
    assert rd["status"] == "ok" and rd["comments"] == len(HOSTILE_COMMENTS), rd
    process_new_articles(settings=settings, engine=warehouse)
    result = build_daily_digest(warehouse, DAY, settings=settings, sources=sources)

    root = Path(settings.output_dir)
    notes = _notes(root)
    assert notes and all(p.suffix == ".md" for p in notes)
    digest_note = Path(result["path"]) if Path(result["path"]).is_absolute() else root / result["path"]
    assert digest_note in notes
    note_names = {p.stem for p in notes}  # every wikilink resolves to a note the vault has
    for p in notes:
        _check_note(p, root, note_names)
    md = digest_note.read_text(encoding="utf-8")
    # The hostile content is there, defused — not silently dropped.
    assert "Secret note" in md and "alert(1)" in md and "pwned" not in md.split("\n---\n", 1)[0]
    assert "troll" in md and "Heading" in md

    with warehouse.connect() as c:
        n_entries = c.execute(select(FeedEntryRow)).all()
        n_posts = c.execute(select(RedditPost)).all()
        n_comments = c.execute(select(RedditComment)).all()
        nul = c.execute(select(Article.title).where(Article.title.like("%nul%byte%"))).scalar_one()
    lost = (len(HOSTILE_TITLES) - len(n_entries)) + (1 - len(n_posts)) + (len(HOSTILE_COMMENTS) - len(n_comments))
    assert lost == 0
    names = f"`{digest_note.relative_to(root).as_posix()}`"
    cases = {
        "wikilink": "`[[…]]` / `![[…]]` in a title",
        "html": "`<script>` / `<img onerror>` in a title",
        "markdown": "Markdown (`**`, `[x](javascript:…)`, `#`, `|`) in a title",
        "fence": "front-matter fence `---` in a title",
        "traversal": "`../../../../etc/passwd` in a title",
        "nul": "NUL byte in a title",
        "bidi": "bidi override U+202E in a title",
        "huge": "100 kB title",
    }
    escaped = ("escaped in the digest note (no raw HTML, no live wikilink/embed, no second front matter, "
               "controls and bidi removed, values cut to one short line)")
    for key, case in cases.items():
        outcome = escaped
        if key == "nul":
            outcome = ("NUL dropped at load (`warehouse.upsert`; PostgreSQL refuses NUL in text, which used to "
                       "fail the whole feed); " + escaped)
        record("Hostile text", case, outcome, lost=lost)
    with warehouse.connect() as c:
        author = c.execute(select(FeedEntryRow.author).limit(1)).scalar_one()
    assert "Mallory" in author
    record("Hostile text", "author `[[Evil]] <b>Mallory</b> U+202E ../../x`",
           "stored (markup entity-escaped by the feed parser); not rendered in notes", lost=lost)
    record("Hostile text", "Reddit comments with front matter, `[[…]]`, `<script>`, headings, lists, "
           "`%%…%%`, NUL, bidi", "kept in `reddit_comments`; rendered as one escaped line each", lost=lost)
    record("Hostile text", "beat name `../../AI [[Beat]] U+202E |*` (becomes the note's file name)",
           f"file name sanitised to {names}, links to it match; every note inside the vault", lost=lost)
    assert "\x00" not in (nul or "")  # PostgreSQL cannot store NUL: the pipeline strips it
