"""Which of the day's stories lead the digest.

A story leads when many outlets covered it, Reddit discussed it, it is about
the entities the newsroom tracks and the beat's vocabulary, and it is recent within the
day; a story continuing from an earlier day ranks lower when the day added no outlet. Each
signal is squashed to a comparable range (logs for counts that grow without
bound) and weighted; the components are kept on the result so a reader of
the warehouse can see why a story ranked where it did. Ties break on the
story key, so the order never depends on query order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class RankingWeights:
    outlets: float = 3.0
    reddit: float = 1.0
    entities: float = 1.5
    recency: float = 1.0
    beat: float = 1.0
    stale: float = 2.0  # a continuing story the day added no outlet to


@dataclass
class StorySignals:
    """What ranking needs to know about one story of the day."""

    key: str  # story id, or "a<article id>" for an article without a story
    outlet_count: int
    reddit_score: int = 0
    reddit_comments: int = 0
    entity_salience: float = 0.0  # sum of tracked entities' salience (0..1 each) on the story
    latest_at: datetime | None = None
    relevance: float = 0.0  # digest.relevance score (0..2.5)
    stale: bool = False  # began on an earlier day and today brought no new outlet


@dataclass
class RankedStory:
    key: str
    rank: int
    score: float
    featured: bool
    components: dict[str, float] = field(default_factory=dict)


def score_story(s: StorySignals, window: tuple[datetime, datetime], w: RankingWeights = RankingWeights()) -> dict:
    """Per-signal contributions; their sum is the story's score."""
    outlets = w.outlets * math.log2(1 + max(0, s.outlet_count))
    reddit = w.reddit * (math.log1p(max(0, s.reddit_score)) + 0.5 * math.log1p(max(0, s.reddit_comments))) / 3
    entities = w.entities * min(3.0, max(0.0, s.entity_salience))
    recency = 0.0
    if s.latest_at is not None:
        span = (window[1] - window[0]).total_seconds() or 1.0
        age = (window[1] - s.latest_at).total_seconds()
        recency = w.recency * max(0.0, min(1.0, 1.0 - age / span))
    beat = w.beat * max(0.0, s.relevance)
    stale = -w.stale if s.stale else 0.0
    return {"outlets": outlets, "reddit": reddit, "entities": entities, "recency": recency, "beat": beat,
            "stale": stale}


def rank_stories(
    stories: Sequence[StorySignals],
    window: tuple[datetime, datetime],
    top_n: int,
    weights: RankingWeights = RankingWeights(),
) -> list[RankedStory]:
    """Stories best first; the first ``top_n`` are featured, the rest listed briefly."""
    scored = []
    for s in stories:
        comp = score_story(s, window, weights)
        scored.append((round(sum(comp.values()), 9), s.key, comp))
    scored.sort(key=lambda t: (-t[0], _key_order(t[1])))
    return [
        RankedStory(key=k, rank=i + 1, score=sc, featured=i < top_n, components={n: round(v, 6) for n, v in c.items()})
        for i, (sc, k, c) in enumerate(scored)
    ]


def _key_order(key: str) -> tuple:
    # Stories before loose articles, then numerically.
    if key.startswith("a"):
        return (1, int(key[1:]) if key[1:].isdigit() else 0, key)
    return (0, int(key) if key.isdigit() else 0, key)
