"""URL canonicalisation: one article, one URL, however it was linked.

Built on courlan (which trafilatura already brings); extended where it falls
short (tracking parameters, AMP and mobile variants).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import courlan

TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "hsa_", "vero_")
TRACKING_PARAMS = {"fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "ref", "ref_src", "cmpid",
                   "guccounter", "mkt_tok", "_hsenc", "_hsmi", "oly_enc_id", "oly_anon_id", "__twitter_impression",
                   "share", "smid", "sr_share", "s_cid", "ncid", "cid", "ocid"}


def canonicalize_url(url: str) -> str:
    """A stable key for ``url``: lower-case scheme/host, no default port, no fragment,
    no tracking parameters, sorted query, no trailing slash on the path."""
    url = url.strip()
    try:
        cleaned = courlan.normalize_url(url, strict=False)
    except Exception:
        cleaned = url
    parts = urlsplit(cleaned)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not k.lower().startswith(TRACKING_PREFIXES) and k.lower() not in TRACKING_PARAMS]
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), ""))
