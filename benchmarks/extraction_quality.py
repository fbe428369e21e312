"""Article-text quality: the article-extraction-benchmark F1 over the shared corpus pages.

    .venv/bin/python benchmarks/extraction_quality.py [--limit N] [--no-pipeline]

Metric (benchmarks/extraction_metric.py, as upstream): tokens ``\\w+``, 4-token
shingles, per page multiset TP/FP/FN, precision and recall averaged over pages,
F1 of the averages. Rows:

* ``trafilatura.extract(bytes)`` — the baseline: trafilatura 2.3.1 with defaults
  on the raw bytes;
* ``newsroom extract_article`` — the project's extractor on the same bytes;
* ``whole path`` — pages served over HTTP on 127.0.0.1, listed in a generated
  RSS feed, ingested by ``newsroom.pipeline.ingest.ingest_feed`` into a SQLite
  warehouse, text read back from ``articles`` (pages the pipeline did not store
  count as empty predictions).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "include"), str(ROOT)]

import trafilatura  # noqa: E402

from benchmarks.extraction_metric import CorpusScore, score_corpus  # noqa: E402
from benchmarks.extraction_pipeline import pipeline_available, run_pipeline  # noqa: E402
from newsroom.extract import xpath_speedups  # noqa: E402
from newsroom.extract.article import extract_article  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"


def load_pages(corpus: Path, limit: int | None) -> tuple[list[dict], dict[str, str]]:
    manifest = sorted(json.loads((corpus / "extraction" / "manifest.json").read_text()), key=lambda r: r["id"])
    truth = json.loads((corpus / "extraction" / "ground-truth.json").read_text())
    manifest = [r for r in manifest if r["id"] in truth]
    if limit:
        manifest = manifest[:limit]
    return manifest, {r["id"]: truth[r["id"]]["articleBody"] for r in manifest}


def row(name: str, score: CorpusScore, seconds: float, note: str = "") -> str:
    return (f"| {name:<38} | {score.pages:>5} | {score.precision:.4f} | {score.recall:.4f} | {score.f1:.4f} "
            f"| {seconds:>7.1f} | {note}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=None, help="only the first N pages (by id)")
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--no-pipeline", action="store_true", help="skip the whole-path row")
    ap.add_argument("--workers", type=int, default=2, help="extraction workers for the whole path")
    args = ap.parse_args(argv)

    pages, truth = load_pages(args.corpus, args.limit)
    bodies = {r["id"]: (args.corpus / "extraction" / r["file"]).read_bytes() for r in pages}
    print(f"extraction quality: {len(pages)} pages of {args.corpus / 'extraction'}, trafilatura {trafilatura.__version__}")
    print()
    print(f"| {'extractor':<38} | pages | P      | R      | F1     | seconds | note")
    print(f"|{'-' * 40}|-------|--------|--------|--------|---------|-----")

    # The baseline is trafilatura as shipped: importing newsroom's extractor installed its XPath
    # matchers (newsroom.extract.xpath_speedups, same output), so they are taken out for this row.
    with xpath_speedups.stock_trafilatura():
        t = time.perf_counter()
        direct = {i: trafilatura.extract(bodies[i]) for i in truth}
        direct_s = time.perf_counter() - t
    base = score_corpus((direct[i], truth[i]) for i in truth)
    print(row("trafilatura.extract(bytes) [baseline]", base, direct_s))

    t = time.perf_counter()
    ours = {r["id"]: extract_article(bodies[r["id"]], r["url"]) for r in pages}
    ours_s = time.perf_counter() - t
    score = score_corpus((ours[i].text, truth[i]) for i in truth)
    not_ok = sum(e.status != "ok" for e in ours.values())
    same = sum((direct[i] or "").strip() == (ours[i].text or "") for i in truth)
    print(row("newsroom extract_article", score, ours_s,
              f"ΔF1 {score.f1 - base.f1:+.4f}; text identical on {same}/{len(truth)}; not ok: {not_ok}"))

    if args.no_pipeline:
        pass
    elif not pipeline_available():
        print(f"| {'whole path (HTTP + warehouse)':<38} | (newsroom.pipeline.ingest not available)")
    else:
        texts, seconds, result = run_pipeline(args.corpus, pages, workers=args.workers)
        whole = score_corpus((texts.get(i), truth[i]) for i in truth)
        print(row("whole path (HTTP+feed+warehouse)", whole, seconds,
                  f"ΔF1 {whole.f1 - base.f1:+.4f}; articles stored {len(texts)}/{len(truth)}; "
                  f"failures {result.get('failures_by_reason') or {}}"))
    print()
    print("F1 = 2PR/(P+R) of page-averaged precision P and recall R over 4-token shingles (upstream metric).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
