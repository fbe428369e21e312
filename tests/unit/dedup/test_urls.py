from hypothesis import given, strategies as st

from newsroom.dedup.urls import canonical_from_page, canonicalize_url


def test_case_ports_fragments_trailing_slash_and_tracking():
    assert canonicalize_url("HTTPS://WWW.Example.COM:443/News/Story/?utm_source=x&b=2&a=1&fbclid=z#top") == \
        "https://www.example.com/News/Story?a=1&b=2"
    assert canonicalize_url("http://example.com:80/a/") == "http://example.com/a"
    assert canonicalize_url("http://example.com:8080/a") == "http://example.com:8080/a"


def test_amp_variants_map_to_the_article():
    base = "https://www.theguardian.com/world/2019/nov/18/story"
    for variant in ("https://amp.theguardian.com/world/2019/nov/18/story",
                    "https://www.theguardian.com/world/2019/nov/18/story/amp",
                    "https://www.theguardian.com/world/2019/nov/18/story/amp/",
                    "https://www.theguardian.com/amp/world/2019/nov/18/story",
                    "https://www.theguardian.com/world/2019/nov/18/story?amp",
                    "https://www.theguardian.com/world/2019/nov/18/story?amp=1",
                    "https://www.theguardian.com/world/2019/nov/18/story?outputType=amp",
                    "https://www-theguardian-com.cdn.ampproject.org/c/s/www.theguardian.com/world/2019/nov/18/story",
                    "https://www.google.com/amp/s/www.theguardian.com/world/2019/nov/18/story"):
        assert canonicalize_url(variant) == base, variant
    assert canonicalize_url("https://www.example.com/a.amp.html") == "https://www.example.com/a.html"


def test_mobile_hosts_map_to_desktop():
    assert canonicalize_url("https://m.bbc.co.uk/news/x") == "https://www.bbc.co.uk/news/x"
    assert canonicalize_url("https://mobile.reuters.com/article/x") == "https://www.reuters.com/article/x"
    assert canonicalize_url("https://en.m.wikipedia.org/wiki/X") == "https://en.wikipedia.org/wiki/X"
    # a bare two-label host that happens to start with "m." is left alone
    assert canonicalize_url("https://m.com/a") == "https://m.com/a"


def test_meaningful_query_kept():
    assert canonicalize_url("https://example.com/article?id=42&page=2&utm_medium=rss") == \
        "https://example.com/article?id=42&page=2"
    # "output" that is not AMP is not dropped
    assert canonicalize_url("https://example.com/a?output=json") == "https://example.com/a?output=json"


def test_canonical_from_page_prefers_rel_canonical_then_og_url():
    assert canonical_from_page("https://m.example.com/a?utm_source=x", "/story-a", "https://example.com/z") == \
        "https://www.example.com/story-a"
    assert canonical_from_page("https://example.com/a", None, "https://www.example.com/a/amp") == \
        "https://www.example.com/a"


def test_canonical_from_page_rejects_other_sites_home_pages_and_junk():
    assert canonical_from_page("https://example.com/a", "https://evil.com/a", None) == "https://example.com/a"
    assert canonical_from_page("https://example.com/a", "https://example.com/", None) == "https://example.com/a"
    assert canonical_from_page("https://example.com/a", "javascript:void(0)", "  ") == "https://example.com/a"
    # falls through to og:url when rel=canonical is unusable
    assert canonical_from_page("https://example.com/a", "https://evil.com/a", "https://example.com/b") == \
        "https://example.com/b"


@given(path=st.lists(st.text(alphabet="abcxyz019-_", min_size=1, max_size=8), max_size=4),
       query=st.dictionaries(st.sampled_from(["id", "p", "utm_source", "fbclid", "q", "amp"]),
                             st.text(alphabet="abc123", max_size=5), max_size=4))
def test_canonicalisation_is_idempotent(path, query):
    url = "https://M.Example.com/" + "/".join(path) + ("?" + "&".join(f"{k}={v}" for k, v in query.items())
                                                       if query else "")
    once = canonicalize_url(url)
    assert canonicalize_url(once) == once
    assert "utm_source" not in once and "fbclid" not in once


def test_canonical_from_page_on_hosts_without_a_registered_domain():
    # IP addresses, localhost and intranet names are their own site: same host (and port) only.
    assert canonical_from_page("http://127.0.0.1:8080/s/x1?utm_source=tw&fbclid=abc", "/news/story-1", None) == \
        "http://127.0.0.1:8080/news/story-1"
    assert canonical_from_page("http://localhost/s/x1", "http://localhost/news/story-1", None) == \
        "http://localhost/news/story-1"
    assert canonical_from_page("http://intranet/s/x1", "http://intranet:80/news/a", None) == "http://intranet/news/a"
    # ... but never another host, another port, or a name claimed from an IP.
    assert canonical_from_page("http://127.0.0.1:8080/s/x1", "http://127.0.0.1:9090/news/a", None) == \
        "http://127.0.0.1:8080/s/x1"
    assert canonical_from_page("http://127.0.0.1/s/x1", "http://localhost/news/a", None) == "http://127.0.0.1/s/x1"
    assert canonical_from_page("http://127.0.0.1/s/x1", "https://example.com/news/a", None) == \
        "http://127.0.0.1/s/x1"
    assert canonical_from_page("https://example.com/a", "http://127.0.0.1/a", None) == "https://example.com/a"
    assert canonical_from_page("http://[::1]:8080/s/x", "http://[::1]:8080/news/a", None) == "http://[::1]:8080/news/a"
    assert canonical_from_page("http://127.0.0.1/s/x1", "http://127.0.0.1:99999/a", None) == "http://127.0.0.1/s/x1"
