"""The labelled evaluation set (tests/fixtures/dedup_eval): duplicates and stories
scored against hand labels, with thresholds a broken implementation would fail."""

from newsroom.pipeline.stories import process_articles
from tests.fixtures.dedup_eval import evalset


def test_quality_on_the_labelled_set(warehouse, corpus, seeds):
    es = evalset.build(corpus, seeds)
    ids = evalset.load(warehouse, es.articles)
    counts = process_articles(warehouse)
    stories, dups = evalset.predicted(warehouse, ids)
    report = evalset.score(es, stories, dups)
    # duplicates: every derived copy found, no two distinct pages (even same-story ones) paired
    assert report.duplicates.precision >= 0.98 and report.duplicates.recall >= 0.9, report.duplicates
    assert counts["exact_dups"] >= 2 * len(es.duplicates) and counts["near_dups"] >= 2 * len(es.duplicates)
    # URL level: tracking/AMP variants always; mobile ones when the site uses www.
    assert report.url_level.precision == 1.0 and report.url_level.recall >= 0.8, report.url_level
    # stories
    assert report.stories_bcubed.precision >= 0.95 and report.stories_bcubed.recall >= 0.95, report.stories_bcubed
    assert report.stories_pairwise.f1 >= 0.9, report.stories_pairwise
    assert not report.separate_violations
    # the copies point at the original (the earliest), not at each other
    by_key = es.by_key()
    for group in es.duplicates:
        original = min(group, key=lambda k: by_key[k].published_at)
        assert any(original in d and group <= d for d in dups)
