"""The pure pair decisions: real corpus texts in, links out; the same links whichever
article of a pair is looked up from."""

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from newsroom.dedup.links import Neighbour, article_features, near_duplicate_links, story_links
from tests.fixtures.dedup_eval import evalset

T = datetime(2026, 4, 1, 12, tzinfo=timezone.utc)


def _row(i, a, at=T, outlet=None):
    return SimpleNamespace(id=i, title=a.title, text=a.text, description=None, language="en", outlet=outlet,
                           sitename=None, canonical_url=a.url, published_at=at, first_seen_at=at)


def test_a_copy_links_from_either_side_and_an_unrelated_page_does_not(corpus, seeds):
    es = evalset.build(corpus, seeds)
    page, other = [a for a in es.articles if not a.key.startswith("variant") and len(a.text.split()) > 300][:2]
    cut = SimpleNamespace(**{**page.__dict__, "text": " ".join(page.text.split()[: int(len(page.text.split()) * .7)])})
    feats = {f.id: f for f in (article_features(_row(1, page)), article_features(_row(2, cut)),
                               article_features(_row(3, other)))}
    sigs = {i: (f.signature, f.shingle_count) for i, f in feats.items()}
    assert near_duplicate_links({1: {2, 3}}, sigs) == {(1, 2)} == near_duplicate_links({2: {1}, 3: {1}}, sigs)


def test_story_links_are_symmetric_and_respect_the_outlet_threshold(corpus, seeds):
    es = evalset.build(corpus, seeds)
    seeds_ = [a for a in es.articles if a.key.startswith("seed:")][:2]
    fa, fb = article_features(_row(1, seeds_[0])), article_features(_row(2, seeds_[1], T + timedelta(hours=2)))
    nb = {f.id: Neighbour(f.at, "Outlet A" if f.id == 1 else "Outlet B", f.vector, f.title_vector) for f in (fa, fb)}
    one, two = story_links({1: [2]}, nb, {}, 72.0), story_links({2: [1]}, nb, {}, 72.0)
    assert one == two and set(one) == {(1, 2)}
    score = one[(1, 2)]
    same = {i: Neighbour(n.at, "One Outlet", n.vector, n.title_vector) for i, n in nb.items()}
    assert (story_links({1: [2]}, same, {}, 72.0) == {}) == (score < 0.45)
    assert story_links({1: [2]}, nb, {}, 1.0) == {}  # two hours apart, one-hour window
