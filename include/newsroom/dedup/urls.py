"""URL canonicalisation: one article, one URL, however it was linked.

Built on courlan (which trafilatura already brings: it lower-cases scheme and
host, drops default ports, sorts the query and strips the common tracking
parameters); extended here where it falls short for news: more tracking
parameters, AMP and mobile variants (``amp.``/``m.``/``mobile.`` hosts,
``/amp`` path suffixes, ``?amp``, ``outputType=amp``, AMP cache URLs) and the
page's own ``<link rel=canonical>`` / ``og:url``.

The result is a *key*, not a display URL: two links to one article should give
the same string. It stays a working URL in the common cases (mobile and AMP
hosts are mapped to ``www.``, which the big outlets redirect anyway).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit, urlunsplit

import courlan

TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "hsa_", "vero_", "_ga", "itm_", "at_", "oly_")
TRACKING_PARAMS = {"fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "ref", "ref_src", "cmpid",
                   "guccounter", "mkt_tok", "_hsenc", "_hsmi", "oly_enc_id", "oly_anon_id", "__twitter_impression",
                   "share", "smid", "sr_share", "s_cid", "ncid", "cid", "ocid", "wt.mc_id", "wt_mc_id", "icid",
                   "cmp", "CMP", "src", "xtor", "spm", "soc_src", "soc_trk", "rss", "feedtype", "taid", "partner",
                   "ito", "ns_mchannel", "ns_source", "ns_campaign", "ns_linkname", "ns_fee", "sref", "srnd"}
TRACKING_PARAMS = {p.lower() for p in TRACKING_PARAMS}

# Query parameters that only select the AMP rendering of the same article.
AMP_ONLY_PARAMS = {"amp", "amp_js_v", "amp_gsa", "usqp", "_gsa", "aoh", "amp_tf", "ampshare"}
AMP_VALUES = {"", "1", "true", "yes", "amp", "amp.html"}
MOBILE_HOST_PREFIXES = ("amp.", "m.", "mobile.")
_AMP_CACHE = re.compile(r"^[a-z0-9-]+\.cdn\.ampproject\.org$")
_AMP_CACHE_PATH = re.compile(r"^/(?:[a-z]/)*s/(.+)$")  # /c/s/host/path, /v/s/host/path
_GOOGLE_AMP_PATH = re.compile(r"^/amp/(s/)?(.+)$")


def _unwrap_amp_cache(url: str) -> str:
    """``https://example-com.cdn.ampproject.org/c/s/example.com/a`` and
    ``https://www.google.com/amp/s/example.com/a`` are the article at ``https://example.com/a``."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if _AMP_CACHE.match(host):
        m = _AMP_CACHE_PATH.match(parts.path)
        if m:
            return "https://" + unquote(m.group(1)) + (f"?{parts.query}" if parts.query else "")
        inner = parts.path.lstrip("/")
        for prefix in ("c/", "v/", "i/"):
            if inner.startswith(prefix):
                return "http://" + inner[len(prefix):] + (f"?{parts.query}" if parts.query else "")
    if host in ("www.google.com", "google.com") and parts.path.startswith("/amp/"):
        m = _GOOGLE_AMP_PATH.match(parts.path)
        if m:
            return ("https://" if m.group(1) else "http://") + unquote(m.group(2))
    return url


def _desktop_host(host: str) -> str:
    """``m.example.com``/``mobile.``/``amp.`` → ``www.example.com``; ``en.m.wikipedia.org`` → ``en.wikipedia.org``."""
    for prefix in MOBILE_HOST_PREFIXES:
        rest = host[len(prefix):]
        if host.startswith(prefix) and rest.count(".") >= 1:
            return "www." + rest
    labels = host.split(".")
    if len(labels) >= 4 and labels[1] in ("m", "mobile", "amp"):
        return ".".join(labels[:1] + labels[2:])
    return host


def _desktop_path(path: str) -> str:
    """Drop AMP path markers: ``/a/amp``, ``/a/amp/``, ``/amp/a``, ``/a.amp``, ``/a.amp.html``."""
    if path.endswith("/amp") or path.endswith("/amp/"):
        path = path[: path.rstrip("/").rfind("/amp")] or "/"
    elif path.startswith("/amp/"):
        path = path[len("/amp"):]
    if path.endswith(".amp.html"):
        path = path[: -len(".amp.html")] + ".html"
    elif path.endswith(".amp"):
        path = path[: -len(".amp")]
    return path or "/"


def _is_amp_param(key: str, value: str) -> bool:
    k = key.lower()
    if k in AMP_ONLY_PARAMS:
        return True
    return k in ("outputtype", "output") and value.lower() in AMP_VALUES


def canonicalize_url(url: str) -> str:
    """A stable key for ``url``: lower-case scheme/host, no default port, no fragment,
    no tracking parameters, sorted query, no trailing slash on the path, and the
    desktop/non-AMP form of mobile and AMP variants."""
    url = _unwrap_amp_cache(url.strip())
    try:
        cleaned = courlan.normalize_url(url, strict=False)
    except Exception:
        cleaned = url
    parts = urlsplit(cleaned)
    scheme = parts.scheme.lower()
    host = _desktop_host((parts.hostname or "").lower().rstrip("."))
    try:
        port = parts.port
    except ValueError:
        port = None
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal keeps its brackets
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not k.lower().startswith(TRACKING_PREFIXES) and k.lower() not in TRACKING_PARAMS
             and not _is_amp_param(k, v)]
    path = _desktop_path(parts.path or "/")
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), ""))


def _registered_domain(url: str) -> str:
    try:
        return (courlan.extract_domain(url) or "").lower()
    except Exception:
        return ""


def _same_site(claimed: str, page: str) -> bool:
    """True when ``claimed`` stays on ``page``'s own site.

    A site is the registered domain (``www.example.co.uk`` and
    ``example.co.uk`` are one site). Hosts that have no registered domain (IP
    addresses, ``localhost``, single-label intranet names) are their own site:
    the same host and port after canonicalisation. An IP is never the same site
    as a name, whatever it resolves to (no DNS here).
    """
    domain = _registered_domain(page)
    if domain:
        return _registered_domain(claimed) == domain
    urlsplit(claimed).port  # an invalid port raises ValueError: no claim at all
    a, b = urlsplit(canonicalize_url(claimed)), urlsplit(canonicalize_url(page))
    return bool(a.netloc) and a.netloc == b.netloc


def canonical_from_page(url: str, html_meta_canonical: str | None, og_url: str | None) -> str:
    """The canonical key of a fetched page, using what the page says about itself.

    ``<link rel=canonical>`` wins over ``og:url``; either is used only when it is an
    http(s) URL on the page's own site (a page must not claim another site's
    article; see :func:`_same_site`, which also covers IP and ``localhost`` hosts)
    and is not the site's home page (a common CMS bug points every article's
    canonical at ``/``). Relative values are resolved against ``url``. Otherwise
    ``url`` itself, canonicalised.
    """
    base = canonicalize_url(url)
    for claimed in (html_meta_canonical, og_url):
        if not claimed or not claimed.strip():
            continue
        try:
            absolute = urljoin(url, claimed.strip())
            if urlsplit(absolute).scheme not in ("http", "https") or not _same_site(absolute, url):
                continue
            candidate = canonicalize_url(absolute)
        except ValueError:  # an unparsable claim (bad port, bracketed junk) is ignored
            continue
        if urlsplit(candidate).path in ("", "/") and urlsplit(base).path not in ("", "/"):
            continue
        return candidate
    return base
