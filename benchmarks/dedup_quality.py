"""Duplicate and story quality on the labelled evaluation set, next to simple baselines
measured in the same run.

    .venv/bin/python benchmarks/dedup_quality.py

Set: tests/fixtures/dedup_eval (hand-labelled story clusters over the corpus
pages and the five seeds, plus syndicated copies derived from real pages:
other boilerplate, truncation, a new headline, light edits, reformatting; and
tracking/AMP/mobile URLs). Runs the real pipeline (``process_articles``) on a
temporary SQLite warehouse.

Baselines: duplicates by exact normalised-text hash only; stories as all
singletons, and as one story per day. A threshold sweep shows how the story
score threshold trades precision for recall. The set was also used to choose
the thresholds, so these figures are optimistic for unseen data.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "include"))
sys.path.insert(0, str(ROOT))

from newsroom.dedup import terms  # noqa: E402
from newsroom.dedup.evaluation import bcubed, pair_scores  # noqa: E402
from newsroom.dedup.text import text_hash  # noqa: E402
from newsroom.pipeline.stories import process_articles  # noqa: E402
from newsroom.warehouse import dispose_all, migrate_warehouse  # noqa: E402
from tests.fixtures.dedup_eval import evalset  # noqa: E402

SHARED = ROOT.parent / "shared"


def run_pipeline(es, threshold: float | None = None):
    old = terms.STORY_THRESHOLD
    if threshold is not None:
        terms.STORY_THRESHOLD = threshold
    try:
        with tempfile.TemporaryDirectory() as d:
            engine = migrate_warehouse(f"sqlite:///{d}/w.db")
            ids = evalset.load(engine, es.articles)
            t = time.perf_counter()
            process_articles(engine)
            elapsed = time.perf_counter() - t
            stories, dups = evalset.predicted(engine, ids)
            dispose_all()
    finally:
        terms.STORY_THRESHOLD = old
    return evalset.score(es, stories, dups), elapsed


def main() -> None:
    es = evalset.build(SHARED / "corpus", SHARED / "seeds")
    keys = [a.key for a in es.articles]
    report, elapsed = run_pipeline(es)

    by_hash = defaultdict(set)
    for a in es.articles:
        by_hash[text_hash(a.text)].add(a.key)
    exact_only = pair_scores(by_hash.values(), es.duplicates, keys)
    singletons = [{k} for k in keys]
    per_day = defaultdict(set)
    for a in es.articles:
        per_day[a.published_at.date()].add(a.key)

    print(f"evaluation set: {len(es.articles)} articles, {len(es.duplicates)} duplicate groups "
          f"({sum(len(g) for g in es.duplicates)} articles), {len(es.stories)} labelled stories, "
          f"{len(es.url_variants)} URL variants; pipeline {elapsed:.2f}s ({1000 * elapsed / len(keys):.1f} ms/article)")
    print()
    print(f"| {'measure':44} | {'precision':>9} | {'recall':>7} | {'F1':>6} |")
    print(f"|{'-' * 46}|{'-' * 11}|{'-' * 9}|{'-' * 8}|")

    def row(name, s):
        print(f"| {name:44} | {s.precision:9.3f} | {s.recall:7.3f} | {s.f1:6.3f} |")

    row("duplicates, pairwise (newsroom)", report.duplicates)
    row("duplicates, pairwise (baseline: exact hash)", exact_only)
    row("same URL after canonicalisation", report.url_level)
    row("stories, B-cubed (newsroom)", report.stories_bcubed)
    row("stories, pairwise (newsroom)", report.stories_pairwise)
    row("stories, B-cubed (baseline: singletons)", bcubed(singletons, es.stories, es.scored))
    row("stories, B-cubed (baseline: one per day)", bcubed(per_day.values(), es.stories, es.scored))
    for th in (0.25, 0.3, 0.4, 0.45):
        r, _ = run_pipeline(es, th)
        row(f"stories, B-cubed (threshold {th})", r.stories_bcubed)
    print()
    print(f"current story threshold {terms.STORY_THRESHOLD} (same outlet {terms.SAME_OUTLET_THRESHOLD}); "
          f"must-stay-apart pairs joined: {len(report.separate_violations)}")


if __name__ == "__main__":
    main()
