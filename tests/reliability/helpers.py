"""Building blocks of the reliability tests: small feeds and pages written here, a
healthy *control* feed that must survive every run, and warehouse read-backs.

The pipeline is driven the way the DAG drives it — one ``ingest_feed`` call per source
with the same ``run_id``, a ``SourceFailed`` caught per source — so "the run goes on"
is checked by the control feed's rows, not assumed.
"""

from __future__ import annotations

import gzip
import tracemalloc
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from xml.sax.saxutils import escape

from sqlalchemy import func, inspect, select, text

from newsroom.config.sources import FeedSource, SourcesFile
from newsroom.pipeline.ingest import SourceFailed, ingest_feed
from newsroom.warehouse.schema import Article, FeedEntryRow, Source, SourceRun

UTC = timezone.utc
T0 = datetime(2026, 4, 9, 10, 0, tzinfo=UTC)
CONTROL = "control"
CONTROL_ITEMS = 3

# Distinct subjects, so pages of different seeds are different stories (not near-duplicates).
_TOPICS = (
    ("The regional transport authority approved the new tram line after a two-year consultation.",
     "Engineers expect the first trains to run between the station and the university campus.",
     "Residents along the route raised concerns about noise during the construction phase.",
     "The council said compensation would be offered to shops affected by the road closures."),
    ("A drought in the southern valleys has cut this year's olive harvest by almost half.",
     "Farmers say irrigation quotas were reduced twice during the hottest weeks of summer.",
     "Cooperatives expect bottled oil prices to rise before the end of the winter season.",
     "Agronomists recommend planting varieties that tolerate longer periods without rain."),
    ("The city library will reopen its restored reading room to the public next month.",
     "Conservators spent three years repairing the painted ceiling and the oak shelving.",
     "Rare manuscripts from the medieval collection will be shown in new climate-controlled cases.",
     "Volunteers helped catalogue more than forty thousand volumes during the closure."),
    ("The national football federation named a new head coach for the women's team on Monday.",
     "She previously led a club side to two league titles and a continental cup final.",
     "Her first squad announcement is expected before the qualifiers in the autumn.",
     "Former players praised the appointment as a signal of long-term investment."),
    ("Astronomers at the mountain observatory reported a bright new comet visible before dawn.",
     "The comet should be easiest to see with binoculars during the second week of the month.",
     "Amateur observers are asked to send their photographs to help refine its orbit.",
     "Its tail has already grown longer than predicted as it approaches the sun."),
)


def article_html(title: str, paragraphs: int = 6, seed: int = 0) -> bytes:
    """A plain news page with enough text (~150+ words) for the extractor to keep; pages
    of different seeds (mod 5) are about different subjects."""
    topic = _TOPICS[seed % len(_TOPICS)]
    paras = []
    for i in range(paragraphs):
        s = [topic[(i + k) % len(topic)] for k in range(3)]
        paras.append(f"<p>{escape(' '.join(s))} (Part {i + 1}.)</p>")
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title></head><body><header><nav>Home | News</nav></header>"
        f"<article><h1>{escape(title)}</h1>{''.join(paras)}</article>"
        "<footer>Copyright the local paper</footer></body></html>"
    ).encode("utf-8")


def rss_item(title: str, link: str | None, *, description: str | None = None, author: str | None = None,
             guid: str | None = None, published: datetime | None = None, raw: bool = False) -> str:
    """One RSS <item>; ``raw`` inserts title/description without XML escaping (hostile markup)."""
    esc = (lambda s: s) if raw else escape
    parts = [f"<title>{esc(title)}</title>"]
    if link is not None:
        parts.append(f"<link>{escape(link)}</link>")
    if guid is not None:
        parts.append(f"<guid isPermaLink='false'>{escape(guid)}</guid>")
    if author is not None:
        parts.append(f"<author>{esc(author)}</author>")
    if description is not None:
        parts.append(f"<description>{esc(description)}</description>")
    parts.append(f"<pubDate>{format_datetime(published or T0)}</pubDate>")
    return f"<item>{''.join(parts)}</item>"


def rss(items: list[str], *, title: str = "A feed", encoding: str | None = "utf-8") -> str:
    decl = f"<?xml version='1.0' encoding='{encoding}'?>" if encoding else "<?xml version='1.0'?>"
    return (f"{decl}<rss version='2.0'><channel><title>{escape(title)}</title>"
            f"<link>http://example.org/</link><description>test feed</description>{''.join(items)}</channel></rss>")


def serve_control(srv) -> str:
    """The healthy control feed: ``CONTROL_ITEMS`` entries linking to real HTML pages."""
    items = []
    for i in range(CONTROL_ITEMS):
        url = srv.add(f"/control/story-{i}.html", body=article_html(f"Tram line story {i}", seed=i),
                      content_type="text/html; charset=utf-8")
        items.append(rss_item(f"Tram line story {i}", url, description=f"Summary {i}",
                              published=T0 - timedelta(minutes=i)))
    srv.add("/robots.txt", body="User-agent: *\nAllow: /\n", content_type="text/plain")
    return srv.add("/control/feed.xml", body=rss(items, title="Control"), content_type="application/rss+xml")


def sources_file(feeds: dict[str, str], **kw) -> SourcesFile:
    return SourcesFile(feeds=[FeedSource(name=n, url=u) for n, u in feeds.items()], **kw)


def run_feeds_traced(settings, engine, feeds: dict[str, str]) -> tuple[dict[str, dict | SourceFailed], int]:
    """:func:`run_feeds` under tracemalloc: (outcomes, peak bytes allocated during the run)."""
    tracemalloc.start()
    try:
        out = run_feeds(settings, engine, feeds)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return out, peak


def run_feeds(settings, engine, feeds: dict[str, str], *, run_id: str = "run-1", now: datetime | None = None,
              force: bool = False) -> dict[str, dict | SourceFailed]:
    """One ingest run over ``feeds`` (name → URL), each source on its own like a mapped task."""
    sources = sources_file(feeds)
    out: dict[str, dict | SourceFailed] = {}
    for name in feeds:
        try:
            out[name] = ingest_feed(name, settings=settings, run_id=run_id, sources=sources, engine=engine,
                                    now=now or T0, force=force)
        except SourceFailed as exc:
            out[name] = exc
    return out


def source(engine, name: str):
    with engine.connect() as c:
        return c.execute(select(Source).where(Source.name == name)).one()


def source_run(engine, name: str, run_id: str = "run-1"):
    with engine.connect() as c:
        return c.execute(select(SourceRun).join(Source, Source.id == SourceRun.source_id)
                         .where(Source.name == name, SourceRun.run_id == run_id)).one()


def entries(engine, name: str) -> list:
    with engine.connect() as c:
        return c.execute(select(FeedEntryRow).join(Source, Source.id == FeedEntryRow.source_id)
                         .where(Source.name == name).order_by(FeedEntryRow.id)).all()


def articles(engine, name: str | None = None) -> list:
    with engine.connect() as c:
        q = select(Article)
        if name is not None:
            q = q.join(Source, Source.id == Article.source_id).where(Source.name == name)
        return c.execute(q.order_by(Article.id)).all()


def count(engine, model, *where) -> int:
    with engine.connect() as c:
        return c.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def control_lost(engine, run_id: str = "run-1") -> int:
    """Rows of the control feed missing after the run (entries without their article).
    Also asserts that the control source itself succeeded in this run."""
    assert source_run(engine, CONTROL, run_id).status in ("ok", "not_modified")
    rows = entries(engine, CONTROL)
    linked = [e for e in rows if e.article_id is not None]
    return CONTROL_ITEMS - len(linked)


def count_feed_items(body: bytes) -> int:
    """Items/entries in a feed document, counted by lxml's recovering parser — a
    parser other than the pipeline's feedparser, so the count is independent of it."""
    from lxml import etree

    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError:
        return 0
    if root is None:
        return 0
    n = 0
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        local = etree.QName(el).localname.lower()
        if local in ("item", "entry"):
            n += 1
    return n


def warehouse_text(engine) -> str:
    """Every value of every table, as one string (for "this never reached the warehouse")."""
    parts = []
    with engine.connect() as c:
        for table in inspect(c).get_table_names():
            for row in c.execute(text(f'SELECT * FROM "{table}"')):
                parts.append(" ".join(str(v) for v in row))
    return "\n".join(parts)


def capture_text(data_dir) -> bytes:
    """Every raw capture, decompressed, concatenated."""
    from pathlib import Path

    out = []
    for p in sorted(Path(data_dir).rglob("*.gz")):
        out.append(gzip.decompress(p.read_bytes()))
    return b"\n".join(out)


def reason_of(result) -> str:
    """The machine-readable reason a source failed with (``SourceFailed.reason``)."""
    assert isinstance(result, SourceFailed), f"expected the source to fail, got {result!r}"
    return result.reason
