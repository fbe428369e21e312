"""The engine's decisions over typed records, with no warehouse: the same duplicate groups
and stories whatever order the input arrives in (and whatever ids the articles got)."""

import random
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from newsroom.dedup.engine import (
    DuplicateInfo,
    DuplicateState,
    StoryMember,
    StoryState,
    batch_story_links,
    duplicate_links,
    exact_duplicate_links,
    representative,
    resolve_duplicates,
    resolve_stories,
)
from newsroom.dedup.links import ArticleFeatures, Neighbour, article_features
from newsroom.dedup.terms import MIN_SHARED_INDEX_TERMS
from newsroom.dedup.text import band_keys
from tests.fixtures.dedup_eval import evalset

T = datetime(2026, 4, 1, 12, tzinfo=timezone.utc)


def _feat(i, at=T, vector=None, text_hash=None):
    return ArticleFeatures(id=i, at=at, outlet=None, title=f"t{i}", text_hash=text_hash, signature=None,
                           shingle_count=0, vector=vector if vector is not None else {"x": 1.0}, title_vector={})


# ---------------------------------------------------------------------------
# small cases: each rule on its own
# ---------------------------------------------------------------------------

def test_exact_links_pair_every_article_sharing_the_hash_but_not_itself():
    feats = [_feat(1, text_hash="h"), _feat(2, text_hash=None), _feat(5, text_hash="g")]
    assert exact_duplicate_links(feats, {"h": [1, 3, 4], "g": [5]}) == {(1, 3), (1, 4)}


def test_the_original_is_the_earliest_then_the_canonical_url_not_the_id():
    info = {1: DuplicateInfo(T, "h", "https://b.example/x"), 2: DuplicateInfo(T, "h", "https://a.example/x"),
            3: DuplicateInfo(T - timedelta(hours=1), "other", "https://z.example/x")}
    changes = {c.article_id: c for c in resolve_duplicates({(1, 2), (2, 3)}, DuplicateState(
        {1: None, 2: None, 3: None}, info, {}))}
    assert changes[3].duplicate_of is None and changes[3].root == 3  # earliest: the original
    assert (changes[1].duplicate_of, changes[1].kind) == (3, "near")
    assert (changes[2].duplicate_of, changes[2].kind) == (3, "near")
    same_time = {1: info[1], 2: info[2]}
    changes = {c.article_id: c for c in resolve_duplicates({(1, 2)}, DuplicateState({1: None, 2: None}, same_time))}
    assert changes[1].duplicate_of == 2 and changes[1].kind == "exact"  # a.example sorts first


def test_an_earlier_copy_arriving_late_repoints_the_stored_group_and_nothing_unchanged_is_rewritten():
    info = {10: DuplicateInfo(T, "h", "https://a/x"), 11: DuplicateInfo(T + timedelta(hours=1), "h", "https://b/x"),
            12: DuplicateInfo(T - timedelta(hours=1), "h", "https://c/x")}
    stored = DuplicateState(roots={10: 10, 11: 10, 12: None}, info=info,
                            current={10: (None, None), 11: (10, "exact"), 12: (None, None)})
    changes = {c.article_id: c for c in resolve_duplicates({(11, 12)}, stored)}
    assert {a: (c.duplicate_of, c.kind, c.root) for a, c in changes.items()} == {
        10: (12, "exact", 12), 11: (12, "exact", 12), 12: (None, None, 12)}
    settled = DuplicateState(roots={10: 12, 11: 12, 12: 12}, info=info,
                             current={10: (12, "exact"), 11: (12, "exact"), 12: (None, None)})
    assert resolve_duplicates({(11, 12)}, settled) == []


def test_a_new_article_bridging_two_stories_merges_them_into_the_earliest():
    feats = [_feat(7)]
    state = StoryState(membership={1: 100, 2: 200}, story_first_seen={100: T, 200: T - timedelta(days=1)},
                       at={7: T})
    plan = resolve_stories(feats, {(1, 7): 0.5, (2, 7): 0.6}, state)
    [g] = plan.groups
    assert (g.story_id, g.new, g.merged, g.bridge_article_id) == (200, False, (100,), 7)
    assert g.members == ((7, 0.6),)
    assert plan.counts() == {"stories_created": 0, "stories_joined": 1, "merges": 1}


def test_a_founder_whose_id_a_dead_story_holds_gets_a_fresh_id_above_everything():
    feats = [_feat(5), _feat(6), _feat(9)]
    state = StoryState({}, {}, at={5: T, 6: T, 9: T + timedelta(hours=1)}, ids_in_use={5}, top_id=40)
    plan = resolve_stories(feats, {(5, 6): 0.5}, state)
    assert [(g.story_id, g.new, [a for a, _ in g.members]) for g in plan.groups] == [(41, True, [5, 6]),
                                                                                    (9, True, [9])]


def test_story_links_prefer_the_batch_features_and_always_keep_copies_together():
    a, b = _feat(1, vector={"chip": 1.0, "probe": 1.0}), _feat(2, at=T + timedelta(days=30), vector={"tulip": 1.0})
    stale = {1: Neighbour(T, None, {"tulip": 1.0}, {})}  # the batch's own features win over what is stored
    links = batch_story_links([a, b], {1: [3]}, {**stale, 3: Neighbour(T, "O", {"chip": 1.0, "probe": 1.0}, {})},
                              {}, 72.0, [(1, 2)])
    assert set(links) == {(1, 3), (1, 2)} and links[(1, 2)] == 1.0  # a month apart, but copies


def test_articles_without_a_term_vector_start_no_story():
    assert resolve_stories([_feat(1, vector={})], {}, StoryState({}, {}, {1: T})).groups == []


def test_the_representative_is_an_original_with_a_title_nearest_the_centroid_whatever_the_order():
    members = [StoryMember(1, {"a": 1.0, "b": 1.0}, "A", True),    # a copy: never first
               StoryMember(2, {"a": 1.0, "b": 0.9}, "B", False),
               StoryMember(3, {"z": 1.0}, "C", False),
               StoryMember(4, {"a": 1.0, "b": 1.0}, None, False)]  # no title
    rng = random.Random(3)
    for _ in range(10):
        rng.shuffle(members)
        assert representative(members).article_id == 2


# ---------------------------------------------------------------------------
# the whole engine on the labelled set, shuffled
# ---------------------------------------------------------------------------

def _engine_in_memory(rows, rng: random.Random | None = None):
    """Run the engine over one batch with every candidate found in memory (what the
    warehouse lookups return for an empty archive), shuffling every input it takes."""
    def shuffled(items):
        items = list(items)
        if rng is not None:
            rng.shuffle(items)
        return items

    feats = shuffled(article_features(r) for r in rows)
    url = {r.id: r.canonical_url for r in rows}
    same_hash = defaultdict(list)
    buckets = defaultdict(set)
    for f in shuffled(feats):
        if f.text_hash:
            same_hash[f.text_hash].append(f.id)
        if f.signature is not None:
            for key in band_keys(f.signature):
                buckets[key].add(f.id)
    cands = defaultdict(set)
    for ids in buckets.values():
        for a in ids:
            cands[a] |= ids - {a}
    dup = duplicate_links(feats, dict(shuffled(same_hash.items())), dict(shuffled(cands.items())), {})
    by_id = {f.id: f for f in feats}
    touched = shuffled({a for p in dup for a in p})
    changes = resolve_duplicates(shuffled(dup), DuplicateState(
        {a: None for a in touched}, {a: DuplicateInfo(by_id[a].at, by_id[a].text_hash, url[a]) for a in touched}))
    terms = {f.id: set(f.terms) for f in feats}
    window = timedelta(hours=72)
    term_cands = {f.id: sorted(o for o in terms if o != f.id and abs(by_id[o].at - f.at) <= window
                               and len(terms[o] & terms[f.id]) >= MIN_SHARED_INDEX_TERMS) for f in feats}
    links = batch_story_links(feats, {a: c for a, c in shuffled(term_cands.items()) if c}, {}, {}, 72.0,
                              shuffled(dup))
    plan = resolve_stories(feats, dict(shuffled(links.items())), StoryState({}, {}, {f.id: f.at for f in feats}))
    return changes, plan


def _partitions(changes, plan, key_of):
    groups = defaultdict(set)
    for c in changes:
        groups[c.root].add(key_of[c.article_id])
    dups = sorted(sorted(g) for g in groups.values())
    stories = sorted(sorted(key_of[a] for a, _ in g.members) for g in plan.groups)
    return dups, stories


@pytest.fixture(scope="module")
def labelled(corpus, seeds):
    es = evalset.build(corpus, seeds)
    return es, [SimpleNamespace(id=i + 1, key=a.key, title=a.title, text=a.text, description=None, language="en",
                                outlet=a.outlet, sitename=None, canonical_url=a.url, published_at=a.published_at,
                                first_seen_at=a.published_at or T) for i, a in enumerate(es.articles)]


def test_shuffled_input_gives_the_same_groups_stories_and_ids(labelled):
    _, rows = labelled
    key_of = {r.id: r.key for r in rows}
    base_changes, base_plan = _engine_in_memory(rows)
    base = _partitions(base_changes, base_plan, key_of)
    assert any(len(g) > 1 for g in base[0]) and any(len(s) > 1 for s in base[1])  # not a trivial partition
    for seed in range(5):
        changes, plan = _engine_in_memory(rows, random.Random(seed))
        assert _partitions(changes, plan, key_of) == base
        assert changes == base_changes and plan.groups == base_plan.groups  # ids and originals too


def test_other_ids_give_the_same_partition(labelled):
    _, rows = labelled
    key_of = {r.id: r.key for r in rows}
    base = _partitions(*_engine_in_memory(rows), key_of)
    rng = random.Random(11)
    for _ in range(3):
        new_ids = list(range(1, len(rows) + 1))
        rng.shuffle(new_ids)
        renamed = [SimpleNamespace(**{**r.__dict__, "id": n}) for r, n in zip(rows, new_ids)]
        assert _partitions(*_engine_in_memory(renamed, rng), {r.id: r.key for r in renamed}) == base


def test_the_engine_finds_the_labelled_duplicate_groups(labelled):
    es, rows = labelled
    key_of = {r.id: r.key for r in rows}
    found = {frozenset(g) for g in _partitions(*_engine_in_memory(rows), key_of)[0]}
    assert found == {frozenset(g) for g in es.duplicates if len(g) > 1}
