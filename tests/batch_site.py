"""A small generated site for batch tests: feeds with their own article pages (and one page
every feed links), served by a :class:`tests.replay_server.ReplayServer`."""

from __future__ import annotations


def page(feed: str, i: int) -> str:
    para = "".join(f"<p>Paragraph {k} of story {i} from {feed}: the council approved the new tram line and "
                   f"published the timetable for the works on the bridge.</p>" for k in range(5))
    return f"<html><head><title>{feed} story {i}</title></head><body><article><h1>{feed} {i}</h1>{para}</article></body></html>"


def feed(srv, name: str, links: list[str]) -> str:
    items = "".join(f"<item><title>{name} item {k}</title><link>{u}</link><guid>{name}-{k}</guid>"
                    f"<pubDate>Wed, 08 Apr 2026 09:{k:02d}:00 GMT</pubDate></item>" for k, u in enumerate(links))
    xml = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>{name}</title><link>{srv.base_url}/</link>'
           f"<description>d</description>{items}</channel></rss>")
    return srv.add(f"/{name}.xml", xml, content_type="application/rss+xml", etag=f'"{name}-1"')


def site(srv, n_feeds: int = 6, per_feed: int = 3, shared: bool = True) -> dict[str, str]:
    """``n_feeds`` feeds with their own pages; with ``shared`` every feed also links one common
    page (the case where which feed stores a page first could leak into the warehouse)."""
    srv.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
    common = srv.add("/common.html", page("common", 0), content_type="text/html")
    feeds = {}
    for f in range(n_feeds):
        name = f"feed{f}"
        links = [srv.add(f"/{name}/{i}.html", page(name, i), content_type="text/html") for i in range(per_feed)]
        feeds[name] = feed(srv, name, links + ([common] if shared else []))
    return feeds
