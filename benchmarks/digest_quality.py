"""Digest quality: what an editor checks first, before and after the digest rework (issue 14).

Builds the digests of 8 and 9 April 2026 for a warehouse holding the five shared seeds (five
outlets, 19:00 on 8 April to 07:00 on 9 April, London) among twelve unrelated pages of the shared
extraction corpus, plus what real feeds bring: a syndicated copy of one seed at a tracking URL
credited to a wire, a page served as HTML that had no text, a Reddit link post about the story
and an article whose outlet is only a host. Tagging and stories run through the real stages.

The **baseline** is the digest package as it was before this change, read from git
(``--baseline-rev``, default the commit before the first digest change on this branch) and
run on a copy of the same warehouse in the same process. Prints one table:

    .venv/bin/python benchmarks/digest_quality.py

Measures (lower is better except the first): on-beat share of ranked items (a ranked item is
on the beat when it is the seed story or it cites a page whose text uses the beat's vocabulary
next to a tracked entity — judged from the shipped beat terms, not from the code under test);
unresolved wikilinks in the vault; repeated timeline lines (an entity note with the same line on
two days); hosts shown as outlets; uncited/empty sources (a numbered source whose page had no
text); duplicate key-figure sentences (a sentence shown for more than one figure of an item).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import subprocess
import sys
import tempfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "include"))
sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared"
UTC = timezone.utc
DAYS = [date(2026, 4, 8), date(2026, 4, 9)]
OUTLETS = ["Editorial Board", "Deeper Insights", "The Decoder", "Tech Brief", "AI Weekly"]
HOST = re.compile(r"^(?:[\w-]+\.)+[a-z]{2,}(?::\d+)?$|^\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?$", re.I)


def _load(engine, corpus: Path, seeds: Path) -> dict:
    """The scenario's articles; returns the ids by role."""
    from newsroom.dedup.urls import canonicalize_url
    from tests.unit.digest import rows as R

    ids: dict = {"seeds": set(), "other": set(), "empty": set()}
    first = datetime(2026, 4, 8, 18, tzinfo=UTC)
    truth = json.loads((corpus / "extraction" / "ground-truth.json").read_text())
    with engine.begin() as c:
        for i, path in enumerate(sorted(seeds.glob("*.txt"))):
            title, _, body = path.read_text(encoding="utf-8").strip().partition("\n")
            url = f"https://seed-{i}.example/2026/04/muse-spark"
            # one outlet known only by its host, as a page linked from Reddit arrives
            outlet = "127.0.0.1" if i == 1 else OUTLETS[i]
            aid = R.add_article(c, url, outlet=outlet, title=title.strip(), text=body.strip(),
                                published_at=first + timedelta(hours=3 * i))
            ids["seeds"].add(aid)
            if i == 1:  # …whose page names its site (og:site_name)
                c.execute(R.table("articles").update().where(R.table("articles").c.id == aid)
                          .values(sitename=OUTLETS[i]))
            if i == 3:  # the wire's copy, first seen through a tracking link, an hour later
                wire = f"https://wire.example/story/muse-spark?utm_source=feed&utm_medium=rss&fbclid=abc{i}"
                R.add_article(c, canonicalize_url(wire), outlet="Wire Service", title=title.strip(),
                              text=body.strip(), published_at=first + timedelta(hours=3 * i + 1))
                c.execute(R.table("articles").update().where(R.table("articles").c.canonical_url
                                                             == canonicalize_url(wire)).values(url=wire))
        # a PDF served as HTML: a title, no text — it must never be cited
        ids["empty"].add(R.add_article(c, "https://papers.example/muse-spark.pdf", outlet="Papers",
                                       title="Muse Spark model card (PDF)", text="",
                                       published_at=datetime(2026, 4, 9, 5, tzinfo=UTC)))
        for j, rec in enumerate(sorted(truth.values(), key=lambda r: r["url"])[:12]):
            body = rec["articleBody"]
            ids["other"].add(R.add_article(c, rec["url"], outlet=None, title=body.split(".")[0][:120], text=body,
                                           published_at=datetime(2026, 4, 9, 8, tzinfo=UTC)
                                           + timedelta(minutes=37 * j)))
    return ids


def _baseline_module(rev: str):
    """The digest package at ``rev`` as an importable package ``baseline_digest``."""
    tmp = Path(tempfile.mkdtemp(prefix="digest-baseline-")) / "baseline_digest"
    files = subprocess.run(["git", "-C", str(ROOT), "ls-tree", "-r", "--name-only", rev, "include/newsroom/digest/"],
                           check=True, capture_output=True, text=True).stdout.split()
    for f in files:
        rel = Path(f).relative_to("include/newsroom/digest")
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        data = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{f}"], check=True, capture_output=True).stdout
        (tmp / rel).write_bytes(data)
    spec = importlib.util.spec_from_file_location("baseline_digest", tmp / "__init__.py",
                                                  submodule_search_locations=[str(tmp)])
    mod = importlib.util.module_from_spec(spec)
    sys.modules["baseline_digest"] = mod
    spec.loader.exec_module(mod)
    return importlib.import_module("baseline_digest.build"), importlib.import_module("baseline_digest.vault")


def _run(kind: str, rev: str, work: Path, corpus: Path, seeds: Path) -> dict:
    from newsroom.config import load_sources
    from newsroom.config.sources import SourcesFile
    from newsroom.pipeline.stories import process_articles
    from newsroom.pipeline.tagging import tag_new_articles
    from newsroom.settings import Settings
    from newsroom.warehouse import migrate_warehouse

    url = f"sqlite:///{work / 'warehouse.db'}"
    settings = Settings(warehouse_url=url, output_dir=work / "vault", data_dir=str(work / "data"))
    engine = migrate_warehouse(url)  # a fresh warehouse, migrated as setup does
    ids = _load(engine, corpus, seeds)
    tag_new_articles(settings)
    process_articles(engine)
    shipped = load_sources(ROOT / "include" / "newsroom" / "defaults" / "sources.yaml")
    sources = SourcesFile.model_validate({"beat": "AI", "timezone": "Europe/London", "digest": {
        "top_n": 5, "hour": 6, "beat_terms": shipped.digest.beat_terms}})
    for d in DAYS:
        if kind == "baseline":
            build, vault = _baseline_module(rev)
            b = build.compute_digest(engine, d, beat=sources.beat, tz=sources.tz, top_n=sources.digest.top_n,
                                     related_days=sources.digest.related_days)
            build.store_digest(engine, b, vault.Vault(settings.output_dir))
        else:
            from newsroom.pipeline.digest import build_daily_digest

            build_daily_digest(engine, d, settings=settings, sources=sources)
    return _measure(engine, settings.output_dir, ids, shipped.digest.beat_terms)


def _on_beat_page(text: str, entities_named: bool, terms) -> bool:
    from newsroom.digest.relevance import term_hits

    return entities_named and term_hits(text or "", terms) >= 3


def _measure(engine, vault: Path, ids: dict, terms) -> dict:
    from sqlalchemy import select

    from newsroom.digest.links import unresolved_links
    from newsroom.warehouse.schema import Article
    from newsroom.warehouse.schema.digest import DigestItem
    from tests.unit.digest import rows as R

    ae = R.table("article_entities")
    with engine.connect() as c:
        items = c.execute(select(DigestItem).order_by(DigestItem.day, DigestItem.rank)).all()
        texts = dict(c.execute(select(Article.id, Article.text)).all())
        named = {r[0] for r in c.execute(select(ae.c.article_id).where(ae.c.mentions >= 2))}
    on_beat = 0
    for it in items:
        cited = {s["article_id"] for s in it.sources}
        if cited & ids["seeds"] or any(_on_beat_page(texts.get(a), a in named, terms) for a in cited):
            on_beat += 1
    hosts = sum(1 for it in items for s in it.sources if HOST.match(s["outlet"] or ""))
    empty = sum(1 for it in items for s in it.sources if len((texts.get(s["article_id"]) or "").split()) < 25)
    dup_fig = 0
    for it in items:
        # two figures of one item whose contexts are windows on the same sentence
        ctx = [set(re.findall(r"\w+", (f.get("context") or "").lower())) for f in (it.key_figures or [])]
        dup_fig += sum(1 for i, a in enumerate(ctx) for b in ctx[:i] if len(a & b) / max(1, len(a | b)) >= 0.4)
    repeated = 0
    for p in sorted((vault / "entities").glob("*.md")) if (vault / "entities").is_dir() else []:
        lines = [ln.split(" — ", 1)[1] for ln in p.read_text().splitlines()
                 if ln.startswith("- [[") and "-Digest]] — " in ln]
        repeated += len(lines) - len(set(lines))
    top9 = [it for it in items if it.day == DAYS[1] and it.rank == 1]
    seeds_cited = sorted(s["outlet"] for s in top9[0].sources) if top9 else []
    return {
        "ranked items": len(items),
        "on-beat share of ranked items": on_beat / max(1, len(items)),
        "unresolved wikilinks": len(unresolved_links(vault)),
        "repeated timeline lines": repeated,
        "hosts shown as outlets": hosts,
        "uncited/empty sources": empty,
        "duplicate key-figure sentences": dup_fig,
        "9 Apr lead cites the five outlets by name": seeds_cited == sorted(OUTLETS),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--baseline-rev", default="092776b",
                    help="git revision of the digest package to compare against (default: before issue 14)")
    args = ap.parse_args()
    corpus, seeds = SHARED / "corpus", SHARED / "seeds"
    if not corpus.is_dir() or not seeds.is_dir():
        print(f"needs the shared corpus and seeds at {SHARED}", file=sys.stderr)
        return 2
    results = {}
    for kind in ("baseline", "after"):
        with tempfile.TemporaryDirectory(prefix=f"digest-{kind}-") as tmp:
            results[kind] = _run(kind, args.baseline_rev, Path(tmp), corpus, seeds)
    names = list(results["after"])
    print(f"| measure | before ({args.baseline_rev}) | after |")
    print("|---|---|---|")
    for n in names:
        fmt = (lambda v: f"{v:.2f}") if isinstance(results["after"][n], float) else str
        print(f"| {n} | {fmt(results['baseline'][n])} | {fmt(results['after'][n])} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
