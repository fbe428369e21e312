"""Pairs of articles that belong together, decided from their features alone.

The pair decisions of the duplicate/story engine (:mod:`newsroom.dedup.engine` turns
links into groups; :mod:`newsroom.warehouse.stories` finds candidates and stores the
groups; :mod:`newsroom.pipeline.stories` sequences them). Every
function here takes typed records and returns links; none knows of a database,
and every decision is a symmetric function of one pair, so the same articles give
the same links whichever of two was processed first:

    feats = article_features(row)                              # once per article
    near_duplicate_links({a: {b, c}}, {a: (sig, n), ...})     # {(a, b), ...}
    story_links({a: [b, c]}, {a: Neighbour(...), ...}, entities, window_hours)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

import numpy as np

from .terms import INDEX_TERMS, headline, index_terms, story_similarity, story_threshold, term_vector
from .text import is_near_duplicate, minhash_signature, text_hash, words

MIN_EXACT_WORDS = 15  # a paywall stub ("Subscribe to continue") is not a duplicate of another stub
TITLE_TERMS = 16


@dataclass
class ArticleFeatures:
    """What the comparisons need from one article (stored in ``article_signatures``)."""

    id: int
    at: datetime
    outlet: str | None
    title: str | None
    text_hash: str | None
    signature: np.ndarray | None
    shingle_count: int
    vector: dict[str, float]
    title_vector: dict[str, float]
    terms: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[datetime, int]:
        return (self.at, self.id)


def outlet_of(outlet: str | None, sitename: str | None, canonical_url: str | None) -> str | None:
    if outlet:
        return outlet[:200]
    if sitename:
        return sitename[:200]
    host = (urlsplit(canonical_url or "").hostname or "").removeprefix("www.")
    return host or None


def article_features(row) -> ArticleFeatures:
    """Features of one ``articles`` row (id, title, text, description, language, outlet,
    sitename, canonical_url, published_at, first_seen_at). Pure: same row, same features."""
    body_text = row.text or row.description or ""
    tokens = words(body_text)
    sig, n_shingles = minhash_signature(tokens)
    exact = text_hash(body_text) if len(tokens) >= MIN_EXACT_WORDS else None
    vector = term_vector(None, row.language, tokens=words(row.title) + tokens if row.title else tokens)
    title = headline(row.title)
    title_vector = term_vector(title, row.language, limit=TITLE_TERMS) if title else {}
    return ArticleFeatures(
        id=row.id,
        at=row.published_at or row.first_seen_at,
        outlet=outlet_of(row.outlet, row.sitename, row.canonical_url),
        title=row.title,
        text_hash=exact,
        signature=sig,
        shingle_count=n_shingles,
        vector=vector,
        title_vector=title_vector,
        terms=index_terms(vector, INDEX_TERMS),
    )


@dataclass
class Neighbour:
    """What a story comparison needs of an article (in memory or read back from
    ``article_signatures``)."""

    at: datetime
    outlet: str | None
    vector: dict[str, float]
    title_vector: dict[str, float]


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def near_duplicate_links(candidates: dict[int, set[int]],
                         sigs: dict[int, tuple[np.ndarray, int]]) -> set[tuple[int, int]]:
    """Pairs (a, b), a < b, among ``candidates`` ({article: candidate ids}) whose
    MinHash signatures ({id: (signature, shingle count)}) verify as near duplicates.
    Candidates without a signature are skipped."""
    links: set[tuple[int, int]] = set()
    for aid, cands in candidates.items():
        if aid not in sigs:
            continue
        sa, na = sigs[aid]
        for other in cands:
            if other not in sigs:
                continue
            sb, nb = sigs[other]
            if is_near_duplicate(sa, na, sb, nb)[0]:
                links.add(_pair(aid, other))
    return links


def story_links(candidates: dict[int, list[int]], neighbours: dict[int, Neighbour],
                entities: dict[int, dict[str, float]], window_hours: float) -> dict[tuple[int, int], float]:
    """{(a, b): score}, a < b, for the candidate pairs scoring at least their
    threshold (higher for two pages of one outlet)."""
    links: dict[tuple[int, int], float] = {}
    for aid, cands in candidates.items():
        a = neighbours.get(aid)
        if a is None:
            continue
        for other in cands:
            b = neighbours.get(other)
            if b is None:
                continue
            apart = abs((a.at - b.at).total_seconds()) / 3600.0
            score = story_similarity(a.vector, a.title_vector, b.vector, b.title_vector, apart, window_hours,
                                     entities.get(aid), entities.get(other))
            if score >= story_threshold(a.outlet, b.outlet):
                links[_pair(aid, other)] = score
    return links
