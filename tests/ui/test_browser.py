"""The operator page in headless Chromium: seeded rows render, hostile digests stay inert,
relative links work, and a screenshot shows a real page."""

from __future__ import annotations

import base64

from .seed import HOSTILE_TITLE

# Every element of the document, checked in the browser's own DOM.
LIVE_DOM = """() => {
    const found = [];
    for (const el of document.querySelectorAll('*')) {
        const tag = el.tagName.toLowerCase();
        if (['script', 'img', 'svg', 'iframe', 'object', 'embed', 'frame', 'form', 'input', 'button',
             'video', 'audio', 'base', 'link'].includes(tag)) found.push('<' + tag + '>');
        for (const a of el.attributes) {
            if (a.name.toLowerCase().startsWith('on')) found.push('<' + tag + ' ' + a.name + '>');
        }
    }
    for (const a of document.querySelectorAll('a[href]')) {
        if (!['http:', 'https:', 'mailto:'].includes(a.protocol)) found.push('href ' + a.protocol + ' ' + a.href);
    }
    return found;
}"""


def _rows(page, table_id: str) -> list[str]:
    return page.locator(f"#{table_id} tbody tr").all_inner_texts()


def test_overview_renders_the_seeded_rows(page, served):
    base, expected = served
    resp = page.goto(base + "/")
    assert resp.status == 200
    assert page.locator("h1").inner_text() == "newsroom"
    sources = _rows(page, "source-health")
    assert len(sources) == len(expected["sources"])
    assert sources[0].startswith("Broken Feed") and "failing" in sources[0] and "http_500" in sources[0]
    assert any(r.startswith("Gone Feed") and "gone: HTTP 410 twice" in r and "disabled" in r for r in sources)
    runs = _rows(page, "pipeline-runs")
    assert len(runs) == 2 and "extractor_timeout: 7" in runs[0] and "http_500: 3" in runs[0]
    digests = page.locator("#digest-list a")
    assert digests.count() == 2
    # the hostile source name is visible as text
    assert page.get_by_text("Evil <script>window.__pwned=1</script>", exact=True).count() == 1
    assert page.evaluate("window.__pwned") is None
    assert page.evaluate(LIVE_DOM) == []
    assert page.evaluate("window.__csp") == [] and page.errors == []


def test_digest_link_opens_the_rendered_digest(page, served):
    base, _ = served
    page.goto(base + "/")
    page.get_by_role("link", name="2026-04-09 AI Digest").click()
    page.wait_for_url("**/digests/2026-04-09/ai")
    assert page.locator("#digest-body h1").inner_text() == "AI digest — Thursday 9 April 2026"
    assert page.locator("#digest-body h2").first.inner_text() == "1. Meta launches Muse Spark"
    source = page.locator("#digest-body a", has_text="Meta's new model")
    assert source.get_attribute("href") == "https://www.theverge.com/ai/muse-spark"
    assert source.get_attribute("rel") == "noopener noreferrer nofollow"
    assert page.locator("#digest-body .wikilink").all_inner_texts() == ["Meta", "Muse Spark (model)"]
    page.get_by_role("link", name="← newsroom").click()  # the relative back link
    page.wait_for_url(base + "/")


def test_hostile_digest_executes_nothing_and_creates_no_live_elements(page, served):
    base, _ = served
    # Control: this browser does run inline scripts, so the checks below can fail.
    page.set_content("<script>window.__pwned = 1</script>")
    assert page.evaluate("window.__pwned") == 1

    resp = page.goto(base + "/digests/2026-04-10/pwn")
    assert resp.status == 200
    assert page.title() == f"{HOSTILE_TITLE} · newsroom"  # the title is text
    body = page.locator("#digest-body")
    assert "<script>window.__pwned=1</script>" in body.locator("h1").inner_text()
    for el in body.locator(".wikilink").all():  # would fire an injected onmouseover
        el.hover()
    for link in body.locator("a").all():  # the one surviving link is the safe one
        assert link.get_attribute("href") == "https://example.com/article?id=1" or \
            link.get_attribute("href") == "https://tracker.invalid/pixel.png"
    assert page.evaluate("window.__pwned") is None
    assert page.evaluate(LIVE_DOM) == []
    assert page.evaluate("window.__csp") == [], "something tried to run or load and was blocked by CSP"
    assert page.errors == []
    assert "javascript:window.__pwned=4" in body.inner_text()  # shown as inert text


def test_screenshot_is_a_real_page(page, served, tmp_path):
    base, _ = served
    page.goto(base + "/")
    shot = tmp_path / "overview.png"
    png = page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size == len(png) > 20_000
    # Decode it in the browser (no image library needed): size, colours, ink coverage.
    page.goto("about:blank")  # a fresh document: the page's CSP (img-src 'self') would block data: images
    page.set_content("<canvas></canvas>")
    stats = page.evaluate("""async (b64) => {
        const img = new Image(); img.src = 'data:image/png;base64,' + b64; await img.decode();
        const c = document.querySelector('canvas'); c.width = img.width; c.height = img.height;
        const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0);
        const d = ctx.getImageData(0, 0, img.width, img.height).data;
        const colours = new Set(); let ink = 0;
        for (let i = 0; i < d.length; i += 4) {
            colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
            if (d[i] + d[i + 1] + d[i + 2] < 600) ink++;
        }
        return {width: img.width, height: img.height, colours: colours.size, ink: ink / (d.length / 4)};
    }""", base64.b64encode(png).decode())
    assert stats["width"] == 1280 and stats["height"] >= 600
    assert stats["colours"] > 50, stats  # text antialiasing, pills, table header: not a blank page
    assert 0.01 < stats["ink"] < 0.6, stats
