"""What a browser would make live in an HTML document, found with a real HTML parser
(not regexes, which mistake escaped text inside attribute values for markup)."""

from __future__ import annotations

from html.parser import HTMLParser

ACTIVE_TAGS = frozenset({"script", "img", "svg", "iframe", "object", "embed", "frame", "math", "form",
                         "input", "button", "link", "meta", "base", "video", "audio", "source"})
ALLOWED_HEAD_TAGS = frozenset({"meta"})  # the page's own <meta charset/viewport/referrer>
URL_ATTRS = frozenset({"href", "src", "action", "formaction", "xlink:href", "poster", "background"})
SAFE_SCHEMES = ("http://", "https://", "mailto:")


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.in_head = False

    def handle_starttag(self, tag, attrs):
        if tag == "head":
            self.in_head = True
        if tag in ACTIVE_TAGS and not (self.in_head and tag in ALLOWED_HEAD_TAGS):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            if name in URL_ATTRS and value is not None:
                v = "".join(ch for ch in value if ch > " ").lower()
                if ":" in v.split("/", 1)[0] and not v.startswith(SAFE_SCHEMES):
                    self.found.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag):
        if tag == "head":
            self.in_head = False


def live_markup(html: str) -> list[str]:
    """Script-capable elements, event-handler attributes and unsafe URLs in ``html``."""
    p = _Collector()
    p.feed(html)
    p.close()
    return p.found
