"""Fuzzing with hypothesis: mutated real feeds → ``parse_feed`` and mutated real pages →
``extract_article``. Seeds are corpus files (small ones, so the run stays bounded); the
mutations are the ones the open web produces — truncation, byte flips, spliced hostile
snippets (entities, CDATA ends, NULs, invalid UTF-8, odd encodings, script and file
links), duplicated and dropped slices. Neither function may raise; every result is
either usable or carries a recorded reason. ``derandomize`` keeps CI runs reproducible.
"""

from __future__ import annotations

from collections import Counter
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from newsroom.extract.article import extract_article
from newsroom.feeds.parse import parse_feed
from tests.conftest import CORPUS
from tests.reliability.helpers import article_html, rss, rss_item

FEED_EXAMPLES = 200
HTML_EXAMPLES = 100

SNIPPETS = [
    b"<!ENTITY x SYSTEM 'file:///etc/passwd'>", b"<!DOCTYPE rss [<!ENTITY a 'aaaa'>]>", b"&x;", b"]]>",
    b"<![CDATA[", b"\x00", b"&#0;", b"\xff\xfe", b"\xc3\x28", b"<?xml version='1.0' encoding='utf-16'?>",
    b"<item><title>t</title><link>javascript:alert(1)</link></item>", b"<link>file:///etc/passwd</link>",
    b"<script>alert(1)</script>", b"</channel></rss>", b"<entry>", b"</item>", b"<pubDate>32 Foo 99999</pubDate>",
    b"\xe2\x80\xae", b"<" * 50, b"&amp;&lt;&#x110000;", b"<html><body>", b"<!--", b"<guid></guid>",
]


def _seeds(folder: str, pattern: str, limit_bytes: int, fallback: list[bytes]) -> list[bytes]:
    root = CORPUS / folder
    if root.is_dir():
        files = sorted(p for p in root.glob(pattern) if p.stat().st_size <= limit_bytes)
        if files:
            return [p.read_bytes() for p in files]
    return fallback


FEED_SEEDS = _seeds("feeds", "*.xml", 40_000, [rss([rss_item(f"t{i}", f"http://e.org/{i}") for i in range(5)]).encode()])
HTML_SEEDS = _seeds("extraction/trafilatura/html", "*.html", 25_000, [article_html("A page", seed=i) for i in range(3)])


@st.composite
def mutated(draw, seeds: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["truncate", "flip", "insert", "duplicate", "delete"]))
        n = len(data)
        pos = draw(st.integers(0, max(n, 1) - 1)) if n else 0
        if op == "truncate":
            del data[pos:]
        elif op == "flip" and n:
            data[pos] ^= draw(st.integers(1, 255))
        elif op == "insert":
            data[pos:pos] = draw(st.sampled_from(SNIPPETS))
        elif op == "duplicate" and n:
            end = min(n, pos + draw(st.integers(1, 2000)))
            data[pos:pos] = data[pos:end]
        elif op == "delete" and n:
            del data[pos:pos + draw(st.integers(1, 500))]
    return bytes(data)


def fuzz(max_examples: int) -> settings:
    return settings(max_examples=max_examples, deadline=None, derandomize=True, database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.large_base_example])


def test_fuzz_feed_bytes_to_entries(record):
    outcomes: Counter[str] = Counter()

    @fuzz(FEED_EXAMPLES)
    @given(body=mutated(FEED_SEEDS))
    def check(body: bytes) -> None:
        parsed = parse_feed(body, url="http://feeds.example.org/feed.xml", content_type="application/xml")
        if parsed.error:
            assert not parsed.entries
            outcomes[parsed.error.split(":")[0]] += 1
            return
        outcomes["entries kept" if parsed.entries else "empty feed"] += 1
        for e in parsed.entries:
            assert e.guid
            assert e.url is None or e.url.startswith(("http://", "https://"))
            assert e.published_at is None or e.published_at.tzinfo is not None
            assert "root:x:0:0" not in (e.title or "") + (e.summary or "") + (e.content or "")

    check()
    assert sum(outcomes.values()) >= FEED_EXAMPLES // 2
    assert outcomes["entries kept"] > 0  # mutations still leave most feeds usable
    record("Fuzzing", f"hypothesis: {FEED_EXAMPLES} mutated corpus feeds ({len(FEED_SEEDS)} seeds) → `parse_feed`",
           "never raised; each result was entries (valid guids, http(s) URLs, aware dates) or a recorded error: "
           + ", ".join(f"`{k}`" for k in sorted(outcomes)), lost=0)


@pytest.mark.corpus
def test_fuzz_html_to_article(record):
    statuses: Counter[str] = Counter()

    @fuzz(HTML_EXAMPLES)
    @given(html=mutated(HTML_SEEDS), with_feed=st.booleans())
    def check(html: bytes, with_feed: bool) -> None:
        fallback = "<p>" + "The feed's own text of this story. " * 30 + "</p>" if with_feed else None
        ex = extract_article(html, "http://news.example.org/story.html", feed_fallback=fallback)
        assert ex.status in ("ok", "feed_content", "failed")
        if ex.status != "ok":
            assert ex.reason
        if ex.status == "failed":
            assert not with_feed or not fallback  # with feed content something is always kept
        assert ex.text is None or isinstance(ex.text, str)
        statuses[ex.status] += 1

    check()
    assert statuses["ok"] > 0
    record("Fuzzing", f"hypothesis: {HTML_EXAMPLES} mutated corpus pages ({len(HTML_SEEDS)} seeds) → "
           "`extract_article`", "never raised; every result `ok`, `feed_content` (feed text kept) or `failed` "
           "with a reason; with feed content nothing was ever `failed`", lost=0)
