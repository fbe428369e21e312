"""Serve the shared corpus over real HTTP for end-to-end tests and benchmarks.

Every file of ``corpus/feeds`` and ``corpus/feeds/malformed`` at ``/feeds/<name>``
(with ETag and Last-Modified, so a second run gets 304s), extraction pages at
``/pages/<id>.html``, and a generated RSS feed ``/feeds/generated.xml`` whose items
link to a sample of those pages at local URLs.
"""

from __future__ import annotations

import hashlib
import json
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from pathlib import Path
from xml.sax.saxutils import escape

LAST_MODIFIED = "Wed, 08 Apr 2026 12:00:00 GMT"


def serve_feeds(srv, corpus: Path) -> dict[str, str]:
    """Register every corpus feed; returns source name → URL."""
    out = {}
    for path in sorted((corpus / "feeds").glob("*.xml")) + sorted((corpus / "feeds" / "malformed").glob("*.xml")):
        body = path.read_bytes()
        rel = path.relative_to(corpus / "feeds").as_posix()
        name = rel.replace("/", "-").removesuffix(".xml")
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        out[name] = srv.add(f"/feeds/{rel}", body=body, content_type="application/xml", etag=etag,
                            last_modified=LAST_MODIFIED)
    return out


def extraction_pages(corpus: Path, limit: int | None = None) -> list[dict]:
    """Manifest records of the extraction pages (id, url, file), in a stable order."""
    manifest = json.loads((corpus / "extraction" / "manifest.json").read_text())
    manifest = sorted(manifest, key=lambda r: r["id"])
    return manifest[:limit] if limit else manifest


def serve_pages_feed(srv, corpus: Path, pages: list[dict], name: str = "generated",
                     published: datetime | None = None) -> str:
    """Serve ``pages`` at local URLs and an RSS feed listing them; returns the feed URL."""
    published = published or datetime(2026, 4, 8, 9, 0, tzinfo=timezone.utc)
    items = []
    for i, rec in enumerate(pages):
        body = (corpus / "extraction" / rec["file"]).read_bytes()
        url = srv.add(f"/pages/{rec['id']}.html", body=body, content_type="text/html; charset=utf-8")
        when = format_datetime(published + timedelta(minutes=i))
        items.append(f"<item><title>Page {i}</title><link>{escape(url)}</link>"
                     f"<guid isPermaLink='false'>{rec['id']}</guid><pubDate>{when}</pubDate>"
                     f"<description>Summary of page {i}</description></item>")
    xml = ("<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Generated</title>"
           f"<link>{srv.base_url}/</link><description>corpus pages</description>{''.join(items)}</channel></rss>")
    srv.add("/robots.txt", body="User-agent: *\nAllow: /\n", content_type="text/plain")
    return srv.add(f"/feeds/{name}.xml", body=xml, content_type="application/rss+xml", etag='"gen-1"')


def write_sources(path: Path, feeds: dict[str, str], *, beat: str = "AI", timezone_name: str = "Europe/London",
                  subreddits: list[dict] | None = None, reddit_base: str | None = None) -> Path:
    import yaml

    data = {"beat": beat, "timezone": timezone_name,
            "feeds": [{"name": n, "url": u, "outlet": n.split("_")[0]} for n, u in feeds.items()],
            "reddit": {"subreddits": subreddits or []}}
    if reddit_base:
        data["reddit"]["base_url"] = reddit_base
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
