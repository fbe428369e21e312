"""Bad feeds through the pipeline: each one ends with a recorded reason (or its entries
kept), the control feed of the same run is stored in full, and nothing is lost."""

from __future__ import annotations


import pytest

from newsroom.pipeline.ingest import SourceFailed
from tests.conftest import CORPUS
from tests.reliability.helpers import (
    run_feeds_traced,
    CONTROL,
    capture_text,
    control_lost,
    count_feed_items,
    entries,
    rss,
    rss_item,
    run_feeds,
    serve_control,
    source,
    source_run,
    warehouse_text,
)

MALFORMED = sorted(p.name for p in (CORPUS / "feeds" / "malformed").glob("*.xml")) or ["(corpus absent)"]


@pytest.fixture
def fast(fast):
    # Entries of real feeds point at real sites: those are recorded as host_not_allowed
    # (feed content kept) instead of reaching the internet.
    return fast.model_copy(update={"allowed_hosts": ["127.0.0.1"]})


def _short(text: str | None, n: int = 140) -> str:
    text = text or ""
    return text if len(text) <= n else text[: n - 1] + "…"


def _outcome(engine, name: str, result, stored: int) -> str:
    """What the warehouse says happened to source ``name``, after checking it is recorded."""
    src, run = source(engine, name), source_run(engine, name)
    if isinstance(result, SourceFailed):
        assert run.status == "failed" and run.reason == result.reason
        assert src.last_error and src.last_error.startswith(result.reason)
        assert src.consecutive_failures == 1 and src.next_due_at is not None  # backs off, retried later
        return f"source failed, recorded `{_short(src.last_error)}`"
    assert run.status == "ok" and src.last_error is None
    note = f"; warning recorded `{_short(run.reason)}`" if run.reason else ""
    return f"{stored} entries kept{note}"


@pytest.mark.corpus
@pytest.mark.parametrize("fname", MALFORMED)
def test_malformed_corpus_feed(fname, corpus, replay_server, fast, warehouse, record):
    body = (corpus / "feeds" / "malformed" / fname).read_bytes()
    url = replay_server.add("/feed.xml", body=body, content_type="application/rss+xml")
    out = run_feeds(fast, warehouse, {"bad": url, CONTROL: serve_control(replay_server)})

    in_document = count_feed_items(body)  # lxml's recovering parser, not feedparser
    stored = len(entries(warehouse, "bad"))
    outcome = _outcome(warehouse, "bad", out["bad"], stored)
    if isinstance(out["bad"], SourceFailed):
        assert out["bad"].reason in ("malformed_feed", "not_a_feed")
    lost = max(in_document - stored, 0) + control_lost(warehouse)
    assert lost == 0
    record("Bad feeds", f"corpus `malformed/{fname}`", outcome, lost=lost)


def _bomb_feed(kind: str, secret_path) -> bytes:
    item = "<item><title>&x;</title><link>http://127.0.0.1/never</link><description>&x;</description></item>"
    head = "<?xml version='1.0' encoding='utf-8'?>"
    if kind == "billion laughs":
        ents = ['<!ENTITY l0 "lol">'] + [f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10)]
        doctype = f"<!DOCTYPE rss [{''.join(ents)}<!ENTITY x \"&l9;\">]>"
    elif kind == "quadratic blowup":
        doctype = f"<!DOCTYPE rss [<!ENTITY x \"{'A' * 50_000}\">]>"
        item = item.replace("<description>&x;</description>", "<description>" + "&x;" * 40_000 + "</description>")
    elif kind == "external entity (local file)":
        doctype = f"<!DOCTYPE rss [<!ENTITY x SYSTEM \"file://{secret_path}\">]>"
    elif kind == "external parameter entity (local file)":
        doctype = f"<!DOCTYPE rss [<!ENTITY % p SYSTEM \"file://{secret_path}\"> %p; <!ENTITY x \"y\">]>"
    else:
        raise AssertionError(kind)
    return (f"{head}{doctype}<rss version='2.0'><channel><title>&x;</title><link>http://example.org/</link>"
            f"<description>bomb</description>{item}</channel></rss>").encode()


@pytest.mark.parametrize("kind", ["billion laughs", "quadratic blowup", "external entity (local file)",
                                  "external parameter entity (local file)"])
def test_xml_bomb(kind, replay_server, fast, warehouse, record, tmp_path):
    secret = "TOPSECRET-" + "7f3a9c" * 4
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(f"{secret}\n")
    body = _bomb_feed(kind, secret_file)
    url = replay_server.add("/bomb.xml", body=body, content_type="application/rss+xml")
    control = serve_control(replay_server)

    out, peak = run_feeds_traced(fast, warehouse, {"bomb": url, CONTROL: control})

    assert isinstance(out["bomb"], SourceFailed) and out["bomb"].reason == "xml_entities_refused"
    assert entries(warehouse, "bomb") == []
    assert peak < 64 * 2**20, f"peak traced memory {peak / 2**20:.1f} MiB"  # an expanded bomb is GBs
    # The file's content is nowhere: not in any table, not in the raw captures.
    assert secret not in warehouse_text(warehouse)
    assert secret.encode() not in capture_text(fast.data_dir)
    lost = control_lost(warehouse)
    assert lost == 0
    outcome = _outcome(warehouse, "bomb", out["bomb"], 0)
    record("Bad feeds", f"XML bomb: {kind}",
           f"{outcome}; nothing expanded (peak memory < 64 MiB), local file never read into the warehouse",
           lost=lost)


def test_external_dtd_is_not_loaded(replay_server, fast, warehouse, record, tmp_path):
    """A DOCTYPE with a SYSTEM identifier (no inline entities) pointing at a local DTD that
    defines an entity: the DTD is never loaded, so the entity's value never appears."""
    secret = "DTDSECRET-" + "c0ffee" * 4
    dtd = tmp_path / "evil.dtd"
    dtd.write_text(f'<!ENTITY x "{secret}">\n')
    body = (f"<?xml version='1.0'?><!DOCTYPE rss SYSTEM \"file://{dtd}\"><rss version='2.0'><channel>"
            "<title>t</title><link>http://example.org/</link><description>d</description>"
            "<item><title>Story &x;</title><link>http://example.org/a</link><guid>a</guid></item>"
            "</channel></rss>").encode()
    url = replay_server.add("/dtd.xml", body=body, content_type="application/rss+xml")
    out = run_feeds(fast, warehouse, {"dtd": url, CONTROL: serve_control(replay_server)})
    assert secret not in warehouse_text(warehouse)
    stored = len(entries(warehouse, "dtd"))
    lost = max(count_feed_items(body) - stored, 0) + control_lost(warehouse)
    assert lost == 0
    record("Bad feeds", "external DTD (`<!DOCTYPE rss SYSTEM \"file://…\">`) defining an entity",
           _outcome(warehouse, "dtd", out["dtd"], stored) + "; DTD never loaded, its value never stored",
           lost=lost)


HTML_PAGE = ("<!doctype html><html><head><title>Our blog</title>"
             "<link rel='alternate' type='application/rss+xml' href='/blog/feed.xml'></head>"
             "<body><h1>Welcome</h1><p>Latest posts…</p></body></html>")


def test_html_served_as_feed(replay_server, fast, warehouse, record):
    url = replay_server.add("/feed", body=HTML_PAGE, content_type="text/html; charset=utf-8")
    out = run_feeds(fast, warehouse, {"html": url, CONTROL: serve_control(replay_server)})
    assert isinstance(out["html"], SourceFailed) and out["html"].reason == "not_a_feed"
    src = source(warehouse, "html")
    assert f"{replay_server.base_url}/blog/feed.xml" in src.last_error  # tells the operator where the feed is
    lost = control_lost(warehouse)
    assert lost == 0
    record("Bad feeds", "HTML page served instead of a feed", _outcome(warehouse, "html", out["html"], 0), lost=lost)


@pytest.mark.parametrize("body,label", [(b"", "empty body"), (b"  \r\n\t ", "whitespace-only body")])
def test_empty_body(body, label, replay_server, fast, warehouse, record):
    url = replay_server.add("/empty.xml", body=body, content_type="application/rss+xml")
    out = run_feeds(fast, warehouse, {"empty": url, CONTROL: serve_control(replay_server)})
    assert isinstance(out["empty"], SourceFailed) and out["empty"].reason == "empty_body"
    lost = control_lost(warehouse)
    assert lost == 0
    record("Bad feeds", f"{label} (HTTP 200)", _outcome(warehouse, "empty", out["empty"], 0), lost=lost)


TITLES = ["Zürich café reopens – naïve “quotes” survive", "Ærøskøbing: señor Müller’s €5 fix"]


@pytest.mark.parametrize("case", ["utf-8 bytes, header says iso-8859-1", "windows-1252 bytes, no charset anywhere",
                                  "latin-1 bytes, XML declaration says utf-8"])
def test_wrong_or_missing_charset(case, replay_server, fast, warehouse, record):
    items = [rss_item(t, f"http://example.org/{i}", guid=f"g{i}", description=f"{t}. " * 8)
             for i, t in enumerate(TITLES)]
    if case.startswith("utf-8"):
        body, ctype = rss(items).encode("utf-8"), "application/rss+xml; charset=iso-8859-1"
    elif case.startswith("windows-1252"):
        body, ctype = rss(items, encoding=None).encode("cp1252"), "application/rss+xml"
    else:
        body, ctype = rss(items, encoding="utf-8").encode("cp1252"), "text/xml"
    url = replay_server.add("/charset.xml", body=body, content_type=ctype)
    out = run_feeds(fast, warehouse, {"charset": url, CONTROL: serve_control(replay_server)})
    assert not isinstance(out["charset"], SourceFailed), out["charset"]
    stored = entries(warehouse, "charset")
    assert sorted(e.title for e in stored) == sorted(TITLES)  # text intact, not mojibake
    lost = len(TITLES) - len(stored) + control_lost(warehouse)
    assert lost == 0
    run = source_run(warehouse, "charset")
    if not case.startswith("utf-8"):  # valid UTF-8 wins over a latin-1 label silently (servers' default)
        assert run.reason and "encoding" in run.reason  # the guess is recorded, not silent
    record("Bad feeds", f"charset: {case}", _outcome(warehouse, "charset", out["charset"], len(stored))
           + "; titles stored verbatim", lost=lost)
