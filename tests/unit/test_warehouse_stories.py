"""warehouse/stories.py on SQLite and PostgreSQL: what the engine's lookups read back is
what was stored, and what it decided is applied as decided."""

from datetime import datetime, timedelta, timezone

from newsroom.dedup.engine import DuplicateChange, StoryGroup, StoryPlan
from newsroom.dedup.links import article_features
from newsroom.warehouse import stories as ws
from newsroom.warehouse.articles import article_row, insert_articles

T = datetime(2026, 4, 1, 12, tzinfo=timezone.utc)
TEXT = ("The regulator opened an inquiry into the chip maker's licensing terms on Tuesday, citing complaints "
        "from three rival firms about bundled discounts and exclusive supply agreements across Europe. ")


def _articles(engine, specs):
    """specs: [(url, title, text, published_at)] → ids in order."""
    rows = [article_row(canonical_url=u, url=u, source_id=None, origin="feed", now=T, outlet="Outlet " + u[-1],
                        title=title, author=None, published_at=at, text=text, extraction_status="ok")
            for u, title, text, at in specs]
    with engine.begin() as conn:
        insert_articles(conn, rows)
    from newsroom.warehouse.articles import article_ids_by_canonical_url

    ids = article_ids_by_canonical_url(engine, [s[0] for s in specs])
    return [ids[s[0]] for s in specs]


def _feats(engine, ids):
    with engine.connect() as conn:
        return [article_features(a) for a in ws.article_texts(conn, ids)]


def test_features_round_trip_and_the_lookups_find_their_neighbours(warehouse):
    ids = _articles(warehouse, [("https://a.example/1", "Regulator opens chip inquiry", TEXT * 4, T),
                                ("https://b.example/2", "Regulator opens chip inquiry", TEXT * 4, T + timedelta(hours=1)),
                                ("https://c.example/3", "Gardening tips", "Plant tulips in autumn. " * 30,
                                 T + timedelta(days=10))])
    assert ws.pending_dedup_ids(warehouse) == ids
    assert ws.articles_in_time_order(warehouse, list(reversed(ids))) == ids
    feats = _feats(warehouse, [ids[2], ids[0], ids[1]])
    assert [f.id for f in feats] == [ids[2], ids[0], ids[1]]  # the order asked for
    with ws.batch_transaction(warehouse) as conn:
        ws.store_features(conn, feats)
        ws.store_features(conn, feats)  # replaces, never duplicates index rows
    assert ws.pending_dedup_ids(warehouse) == []
    a, b, c = sorted(feats, key=lambda f: f.id)
    with warehouse.connect() as conn:
        assert a.text_hash == b.text_hash != c.text_hash
        assert {h: sorted(v) for h, v in ws.same_hash(conn, [a.text_hash, None]).items()} == {a.text_hash: [a.id, b.id]}
        cands = ws.bucket_candidates(conn, [a, c])
        assert cands.get(a.id) == {b.id} and c.id not in cands
        sigs = ws.signatures(conn, [b.id])
        assert list(sigs) == [b.id] and (sigs[b.id][0] == b.signature).all() and sigs[b.id][1] == b.shingle_count
        terms = ws.term_candidates(conn, [a, c], timedelta(hours=72))
        assert terms.get(a.id) == [b.id] and c.id not in terms
        assert ws.term_candidates(conn, [a], timedelta(minutes=30)) == {}  # b is an hour away
        nb = ws.neighbours(conn, [b.id])[b.id]
        assert nb.at == b.at and nb.outlet == b.outlet and nb.vector == b.vector


def test_duplicate_changes_are_applied_and_read_back_as_state(warehouse):
    ids = _articles(warehouse, [(f"https://x.example/{i}", "t", TEXT * 3, T + timedelta(minutes=i)) for i in range(3)])
    with ws.batch_transaction(warehouse) as conn:
        ws.store_features(conn, _feats(warehouse, ids))
        ws.apply_duplicates(conn, [DuplicateChange(ids[0], None, None, False, True, ids[0]),
                                   DuplicateChange(ids[1], ids[0], "exact", True, True, ids[0])])
    with warehouse.connect() as conn:
        # a link to the third article brings the whole stored group along
        state = ws.duplicate_state(conn, {(ids[1], ids[2])})
        assert state.roots == {ids[0]: ids[0], ids[1]: ids[0], ids[2]: None}
        assert state.current == {ids[0]: (None, None), ids[1]: (ids[0], "exact"), ids[2]: (None, None)}
        assert state.info[ids[2]].canonical_url == "https://x.example/2"
        assert ws.duplicate_counts(conn, ids) == {"exact_dups": 1, "near_dups": 0}


def test_a_story_plan_is_applied_merged_refreshed_and_released(warehouse):
    ids = _articles(warehouse, [(f"https://s.example/{i}", f"Story {i}", TEXT * 2, T + timedelta(hours=i))
                                for i in range(4)])
    feats = _feats(warehouse, ids)
    with ws.batch_transaction(warehouse) as conn:
        ws.store_features(conn, feats)
        ws.apply_story_plan(conn, StoryPlan([
            StoryGroup(ids[0], True, T, (), None, ((ids[0], None), (ids[1], 0.5)), 0),
            StoryGroup(ids[2], True, T + timedelta(hours=2), (), None, ((ids[2], None),), 0)]))
    with ws.batch_transaction(warehouse) as conn:
        # the fourth article bridges the two: the second folds into the first
        ws.apply_story_plan(conn, StoryPlan([StoryGroup(ids[0], False, None, (ids[2],), ids[3],
                                                        ((ids[3], 0.7),), 1)]))
        stats = {s.story_id: s for s in ws.story_stats(conn, {ids[0], ids[2]})}
        assert list(stats) == [ids[0]] and stats[ids[0]].article_count == 4
        members = ws.story_members(conn, ids[0])
        assert [m.article_id for m in members] == ids  # by date
        ws.update_story(conn, stats[ids[0]], members[1])
    assert ws.stories_of(warehouse, ids) == [ids[0]]
    with ws.batch_transaction(warehouse) as conn:
        in_range = ws.articles_in_range(conn, T, T + timedelta(hours=2))
        assert in_range == {ids[0], ids[1]}
        redo, dead, alive = ws.release_range(conn, in_range)
        assert redo == in_range and dead == set() and alive == {ids[0]}
    assert ws.stories_of(warehouse, ids) == [ids[0]]  # the story keeps its other members
    with ws.batch_transaction(warehouse) as conn:
        redo, dead, alive = ws.release_range(conn, set(ids[2:]))
        assert dead == {ids[0], ids[2]} and alive == set()  # emptied, with the story merged into it
    assert ws.stories_of(warehouse, ids) == []


def test_story_state_reports_ids_in_use_and_the_top_id(warehouse):
    ids = _articles(warehouse, [(f"https://d.example/{i}", "t", TEXT, T) for i in range(2)])
    feats = _feats(warehouse, ids)
    with ws.batch_transaction(warehouse) as conn:
        ws.store_features(conn, feats)
        ws.apply_story_plan(conn, StoryPlan([StoryGroup(ids[1], True, T, (), None, (), 0)]))  # a dead story's id
        state = ws.story_state(conn, feats, {})
    assert state.membership == {} and state.ids_in_use == {ids[1]} and state.top_id == max(ids)
    assert set(state.at) == set(ids)
