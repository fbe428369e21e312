from datetime import datetime, timezone

from newsroom.digest.ranking import StorySignals, rank_stories

UTC = timezone.utc
WINDOW = (datetime(2026, 4, 8, 23, tzinfo=UTC), datetime(2026, 4, 9, 23, tzinfo=UTC))
NOON = datetime(2026, 4, 9, 11, tzinfo=UTC)


def test_more_outlets_rank_higher():
    r = rank_stories([StorySignals("1", 1, latest_at=NOON), StorySignals("2", 5, latest_at=NOON)], WINDOW, 10)
    assert [x.key for x in r] == ["2", "1"] and [x.rank for x in r] == [1, 2]


def test_reddit_entities_and_recency_break_otherwise_equal_stories():
    base = dict(outlet_count=2, latest_at=NOON)
    r = rank_stories([
        StorySignals("1", **base),
        StorySignals("2", **base, reddit_score=2000, reddit_comments=400),
        StorySignals("3", **base, entity_salience=1.0),
        StorySignals("4", 2, latest_at=datetime(2026, 4, 9, 22, tzinfo=UTC)),
    ], WINDOW, 10)
    assert r[-1].key == "1"
    assert r[0].components["reddit"] > 0 and r[0].key == "2"


def test_top_n_and_deterministic_ties():
    stories = [StorySignals(k, 1, latest_at=NOON) for k in ["a7", "12", "3", "a2"]]
    r1 = rank_stories(stories, WINDOW, 2)
    r2 = rank_stories(list(reversed(stories)), WINDOW, 2)
    assert [x.key for x in r1] == [x.key for x in r2] == ["3", "12", "a2", "a7"]
    assert [x.featured for x in r1] == [True, True, False, False]
