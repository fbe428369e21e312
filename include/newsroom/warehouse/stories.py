"""Every read and write of the dedup and story tables, and of the articles' duplicate fields.

Owns ``article_signatures``, ``lsh_bands``, ``article_terms``, ``stories``,
``story_articles`` and ``story_merges``, and writes ``articles.duplicate_of`` /
``articles.duplicate_kind`` (the only columns of ``articles`` this module writes).
The decisions are :mod:`newsroom.dedup.engine`'s; this module reads what they
need and applies what they return:

    with batch_transaction(engine) as conn:        # one writer at a time (advisory lock)
        store_features(conn, feats)
        links = duplicate_links(feats, same_hash(conn, ...), bucket_candidates(conn, feats), ...)
        apply_duplicates(conn, resolve_duplicates(links, duplicate_state(conn, links)))

Every ``IN (…)`` list is chunked (``IN_CHUNK``), so a batch of any size stays
under SQLite's bound-parameter limit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import Engine, delete, func, insert, or_, select, text, update
from sqlalchemy.engine import Connection

from newsroom.dedup.engine import (
    DuplicateChange,
    DuplicateInfo,
    DuplicateState,
    StoryMember,
    StoryPlan,
    StoryState,
    story_nodes,
)
from newsroom.dedup.links import ArticleFeatures, Neighbour
from newsroom.dedup.terms import MIN_SHARED_INDEX_TERMS
from newsroom.dedup.text import band_keys, signature_bytes, signature_from_bytes
from newsroom.warehouse.db import upsert
from newsroom.warehouse.schema import Article, utcnow
from newsroom.warehouse.schema.entities import ArticleEntity
from newsroom.warehouse.schema.stories import ArticleSignature, ArticleTerm, LshBand, Story, StoryArticle, StoryMerge

__all__ = [
    "ArticleText", "StoryStats", "IN_CHUNK", "LOCK_KEY", "PARAMS_VERSION", "REPRESENTATIVE_SAMPLE",
    "apply_duplicates", "apply_story_plan", "article_texts", "articles_in_range", "articles_in_time_order",
    "batch_transaction", "bucket_candidates", "duplicate_counts", "duplicate_state", "entity_weights",
    "neighbours", "pending_dedup_ids", "release_range", "same_hash", "signatures", "stories_of",
    "story_members", "story_state", "story_stats", "store_features", "term_candidates", "update_story",
]

PARAMS_VERSION = 1
REPRESENTATIVE_SAMPLE = 100
IN_CHUNK = 900  # bound parameters per IN (…) list, well under SQLite's limit
LOCK_KEY = 0x6E7273746F7279  # "nrstory": the PostgreSQL advisory lock of this stage


def _chunks(seq, n: int = IN_CHUNK) -> Iterator[list]:
    seq = list(seq)
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


def _select_in(conn: Connection, stmt_for: Callable, ids) -> list:
    """Run ``stmt_for(chunk)`` over ``ids`` in chunks and concatenate the rows."""
    out = []
    for chunk in _chunks(ids):
        out.extend(conn.execute(stmt_for(chunk)).all())
    return out


@contextmanager
def batch_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction holding this stage's lock until it ends.

    Links are found by looking up what is stored, so two batches processed in
    concurrent transactions would not see each other's articles and a pair split
    across them would never be linked (two runs at once, a reprocess beside an
    ingest). On PostgreSQL a transaction-scoped advisory lock serialises the
    batches; SQLite already has a single writer, and a batch's lookups all come
    after its first write, so they see everything committed before it.
    """
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
        yield conn


# ---------------------------------------------------------------------------
# which articles, in which order
# ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ArticleText:
    """What :func:`newsroom.dedup.links.article_features` reads of one article."""

    id: int
    title: str | None
    text: str | None
    description: str | None
    language: str | None
    outlet: str | None
    sitename: str | None
    canonical_url: str
    published_at: datetime | None
    first_seen_at: datetime


_TEXT_COLUMNS = (Article.id, Article.title, Article.text, Article.description, Article.language, Article.outlet,
                 Article.sitename, Article.canonical_url, Article.published_at, Article.first_seen_at)


def pending_dedup_ids(engine: Engine) -> list[int]:
    """Articles without features yet (no ``article_signatures`` row), by id."""
    with engine.connect() as conn:
        return list(conn.execute(
            select(Article.id).outerjoin(ArticleSignature, ArticleSignature.article_id == Article.id)
            .where(ArticleSignature.article_id.is_(None)).order_by(Article.id)).scalars())


def articles_in_time_order(engine: Engine, ids: Iterable[int]) -> list[int]:
    """``ids`` by (published_at or first_seen_at, id): the order batches are cut in."""
    with engine.connect() as conn:
        keyed = _select_in(conn, lambda c: select(
            Article.id, func.coalesce(Article.published_at, Article.first_seen_at)).where(Article.id.in_(c)), ids)

    def key(r):
        at = r[1]
        if isinstance(at, str):  # SQLite returns coalesce() of two timestamps as text
            at = datetime.fromisoformat(at)
        return (at.replace(tzinfo=None) if at.tzinfo else at, r[0])

    return [r[0] for r in sorted(keyed, key=key)]


def article_texts(conn: Connection, ids: list[int]) -> list[ArticleText]:
    """The articles ``ids`` in the order given."""
    rows = _select_in(conn, lambda c: select(*_TEXT_COLUMNS).where(Article.id.in_(c)), ids)
    order = {aid: i for i, aid in enumerate(ids)}
    rows.sort(key=lambda r: order[r.id])
    return [ArticleText(*r) for r in rows]


# ---------------------------------------------------------------------------
# features and the two indexes
# ---------------------------------------------------------------------------

def store_features(conn: Connection, feats: list[ArticleFeatures]) -> None:
    """Replace the features, LSH band keys and index terms of ``feats``' articles."""
    ids = [f.id for f in feats]
    for chunk in _chunks(ids):
        conn.execute(delete(LshBand).where(LshBand.article_id.in_(chunk)))
        conn.execute(delete(ArticleTerm).where(ArticleTerm.article_id.in_(chunk)))
    now = utcnow()
    rows = [{
        "article_id": f.id, "text_hash": f.text_hash,
        "minhash": signature_bytes(f.signature) if f.signature is not None else None,
        "shingle_count": f.shingle_count, "vector": f.vector, "title_vector": f.title_vector,
        "at": f.at, "outlet": f.outlet, "params_version": PARAMS_VERSION, "created_at": now,
    } for f in feats]
    for chunk in _chunks(rows, 100):
        upsert(conn, ArticleSignature, chunk, keys=["article_id"],
               update=["text_hash", "minhash", "shingle_count", "vector", "title_vector", "at", "outlet",
                       "params_version"])
    bands = [{"bucket": bucket, "band": band, "article_id": f.id}
             for f in feats if f.signature is not None for band, bucket in band_keys(f.signature)]
    if bands:
        conn.execute(insert(LshBand), bands)
    terms = [{"term": t, "article_id": f.id, "at": f.at} for f in feats for t in f.terms]
    if terms:
        conn.execute(insert(ArticleTerm), terms)


def same_hash(conn: Connection, hashes: Iterable[str]) -> dict[str, list[int]]:
    """{text hash: ids of every article stored with it}."""
    out: dict[str, list[int]] = defaultdict(list)
    for aid, h in _select_in(conn, lambda c: select(ArticleSignature.article_id, ArticleSignature.text_hash)
                             .where(ArticleSignature.text_hash.in_(c)), {h for h in hashes if h}):
        out[h].append(aid)
    return dict(out)


def bucket_candidates(conn: Connection, feats: Iterable[ArticleFeatures]) -> dict[int, set[int]]:
    """{article: every other article sharing one of its LSH (band, bucket) keys}, uncapped."""
    out: dict[int, set[int]] = {}
    for f in feats:
        if f.signature is None:
            continue
        wanted = {bucket: band for band, bucket in band_keys(f.signature)}
        cands: set[int] = set()
        for bucket_chunk in _chunks(list(wanted)):
            rows = conn.execute(
                select(LshBand.article_id, LshBand.bucket, LshBand.band)
                .where(LshBand.bucket.in_(bucket_chunk), LshBand.article_id != f.id)).all()
            cands.update(aid for aid, bucket, band in rows if wanted.get(bucket) == band)
        if cands:
            out[f.id] = cands
    return out


def signatures(conn: Connection, ids: Iterable[int]) -> dict[int, tuple[np.ndarray, int]]:
    """{id: (MinHash signature, shingle count)} of the stored articles that have one."""
    out: dict[int, tuple[np.ndarray, int]] = {}
    for aid, blob, n in _select_in(conn, lambda c: select(
            ArticleSignature.article_id, ArticleSignature.minhash, ArticleSignature.shingle_count)
            .where(ArticleSignature.article_id.in_(c)), ids):
        if blob is not None:
            out[aid] = (signature_from_bytes(blob), n)
    return out


def term_candidates(conn: Connection, feats: Iterable[ArticleFeatures], window: timedelta) -> dict[int, list[int]]:
    """{article: every other article within ``window`` sharing at least
    ``MIN_SHARED_INDEX_TERMS`` index terms}, by id.

    The rule is symmetric (a fixed count, not one relative to either article's term
    count) and uncapped (a cap ranks candidates against the rest of the archive, so
    the later article of a pair could miss the earlier one); so each qualifying pair
    is found whichever of the two is processed second.
    """
    out: dict[int, list[int]] = {}
    for f in feats:
        if len(f.terms) < MIN_SHARED_INDEX_TERMS:
            continue  # cannot share enough terms with anyone
        rows = conn.execute(
            select(ArticleTerm.article_id)
            .where(ArticleTerm.term.in_(f.terms), ArticleTerm.at >= f.at - window, ArticleTerm.at <= f.at + window,
                   ArticleTerm.article_id != f.id)
            .group_by(ArticleTerm.article_id).having(func.count() >= MIN_SHARED_INDEX_TERMS)
            .order_by(ArticleTerm.article_id)).all()
        if rows:
            out[f.id] = [r[0] for r in rows]
    return out


def neighbours(conn: Connection, ids: Iterable[int]) -> dict[int, Neighbour]:
    """What a story comparison needs of each stored article of ``ids``."""
    return {aid: Neighbour(at, outlet, vec or {}, tvec or {}) for aid, at, outlet, vec, tvec in _select_in(
        conn, lambda c: select(ArticleSignature.article_id, ArticleSignature.at, ArticleSignature.outlet,
                               ArticleSignature.vector, ArticleSignature.title_vector)
        .where(ArticleSignature.article_id.in_(c)), ids)}


def entity_weights(conn: Connection, ids: Iterable[int]) -> dict[int, dict[str, float]]:
    """{article: {entity: salience}} from ``article_entities`` (the tagging stage's)."""
    out: dict[int, dict[str, float]] = defaultdict(dict)
    for aid, eid, sal in _select_in(conn, lambda c: select(
            ArticleEntity.article_id, ArticleEntity.entity_id, ArticleEntity.salience)
            .where(ArticleEntity.article_id.in_(c)), ids):
        out[aid][str(eid)] = float(sal) if sal is not None else 1.0
    return out


# ---------------------------------------------------------------------------
# duplicate groups
# ---------------------------------------------------------------------------

def duplicate_state(conn: Connection, links: Iterable[tuple[int, int]]) -> DuplicateState:
    """The stored groups of the linked articles, whole (every member of each)."""
    touched = {a for pair in links for a in pair}
    if not touched:
        return DuplicateState({}, {}, {})
    roots = {r for (r,) in _select_in(conn, lambda c: select(ArticleSignature.dup_root).where(
        ArticleSignature.article_id.in_(c), ArticleSignature.dup_root.isnot(None)), touched)}
    members: dict[int, int | None] = {}
    for aid, root in _select_in(conn, lambda c: select(ArticleSignature.article_id, ArticleSignature.dup_root)
                                .where(or_(ArticleSignature.article_id.in_(c), ArticleSignature.dup_root.in_(c))),
                                touched | roots):
        members[aid] = root
    info = {aid: DuplicateInfo(at, h, url) for aid, at, h, url in _select_in(conn, lambda c: select(
        ArticleSignature.article_id, ArticleSignature.at, ArticleSignature.text_hash, Article.canonical_url)
        .join(Article, Article.id == ArticleSignature.article_id)
        .where(ArticleSignature.article_id.in_(c)), members)}
    current = {aid: (dup, kind) for aid, dup, kind in _select_in(conn, lambda c: select(
        Article.id, Article.duplicate_of, Article.duplicate_kind).where(Article.id.in_(c)), members)}
    return DuplicateState(members, info, current)


def apply_duplicates(conn: Connection, changes: Iterable[DuplicateChange]) -> None:
    for ch in changes:
        if ch.set_pointer:
            conn.execute(update(Article).where(Article.id == ch.article_id)
                         .values(duplicate_of=ch.duplicate_of, duplicate_kind=ch.kind))
        if ch.set_root:
            conn.execute(update(ArticleSignature).where(ArticleSignature.article_id == ch.article_id)
                         .values(dup_root=ch.root))


def duplicate_counts(conn: Connection, ids: Iterable[int]) -> dict[str, int]:
    """{"exact_dups": n, "near_dups": m} among ``ids``."""
    out = {"exact_dups": 0, "near_dups": 0}
    for _, kind in _select_in(conn, lambda c: select(Article.id, Article.duplicate_kind)
                              .where(Article.id.in_(c), Article.duplicate_of.isnot(None)), ids):
        out["exact_dups" if kind == "exact" else "near_dups"] += 1
    return out


# ---------------------------------------------------------------------------
# stories
# ---------------------------------------------------------------------------

def story_state(conn: Connection, feats: list[ArticleFeatures], links) -> StoryState:
    """The stories of the linked articles, the dates of those without one, and the ids in use."""
    _, nodes = story_nodes(feats, links)
    if not nodes:
        return StoryState({}, {}, {})
    membership = dict(_select_in(conn, lambda c: select(StoryArticle.article_id, StoryArticle.story_id)
                                 .where(StoryArticle.article_id.in_(c)), nodes))
    free = sorted(a for a in nodes if a not in membership)
    first_seen = dict(_select_in(conn, lambda c: select(Story.id, Story.first_seen_at).where(Story.id.in_(c)),
                                 set(membership.values())))
    at = {aid: a for aid, a in _select_in(conn, lambda c: select(ArticleSignature.article_id, ArticleSignature.at)
                                          .where(ArticleSignature.article_id.in_(c)), free)}
    in_use = {s for (s,) in _select_in(conn, lambda c: select(Story.id).where(Story.id.in_(c)), free)}
    top = 0
    if in_use:  # only then can a new story need an id of its own
        top = max(conn.execute(select(func.max(Story.id))).scalar() or 0,
                  conn.execute(select(func.max(Article.id))).scalar() or 0)
    return StoryState(membership, first_seen, at, in_use, top)


def apply_story_plan(conn: Connection, plan: StoryPlan) -> None:
    """Create, merge and fill the stories as planned, group by group."""
    now = utcnow()
    for g in plan.groups:
        if g.new:
            conn.execute(insert(Story).values(id=g.story_id, first_seen_at=g.first_seen_at,
                                              last_seen_at=g.first_seen_at, article_count=0, outlet_count=0,
                                              created_at=now, updated_at=now))
        elif g.merged:
            others = list(g.merged)
            conn.execute(update(StoryArticle).where(StoryArticle.story_id.in_(others)).values(story_id=g.story_id))
            conn.execute(update(Story).where(or_(Story.id.in_(others), Story.merged_into.in_(others)))
                         .values(merged_into=g.story_id, article_count=0, outlet_count=0, updated_at=now))
            upsert(conn, StoryMerge, [{"from_story_id": s, "into_story_id": g.story_id,
                                       "bridge_article_id": g.bridge_article_id, "merged_at": now} for s in others],
                   keys=["from_story_id"])
        if g.members:
            upsert(conn, StoryArticle, [{"article_id": a, "story_id": g.story_id, "similarity": sim,
                                         "added_at": now} for a, sim in g.members], keys=["article_id"],
                   update=["story_id", "similarity"])


@dataclass(frozen=True, slots=True)
class StoryStats:
    """Counts and time span of one story's members."""

    story_id: int
    article_count: int
    outlet_count: int
    first_seen_at: datetime
    last_seen_at: datetime


def story_stats(conn: Connection, story_ids: Iterable[int]) -> list[StoryStats]:
    return [StoryStats(*r) for r in _select_in(conn, lambda c: select(
        StoryArticle.story_id, func.count(), func.count(func.distinct(ArticleSignature.outlet)),
        func.min(ArticleSignature.at), func.max(ArticleSignature.at))
        .join(ArticleSignature, ArticleSignature.article_id == StoryArticle.article_id)
        .where(StoryArticle.story_id.in_(c)).group_by(StoryArticle.story_id), story_ids)]


def story_members(conn: Connection, story_id: int, limit: int = REPRESENTATIVE_SAMPLE) -> list[StoryMember]:
    """The story's first ``limit`` members by (date, id): the representative's candidates."""
    rows = conn.execute(
        select(ArticleSignature.article_id, ArticleSignature.vector, Article.title, Article.duplicate_of)
        .join(StoryArticle, StoryArticle.article_id == ArticleSignature.article_id)
        .join(Article, Article.id == ArticleSignature.article_id)
        .where(StoryArticle.story_id == story_id)
        .order_by(ArticleSignature.at, ArticleSignature.article_id).limit(limit)).all()
    return [StoryMember(aid, vec or {}, title, dup is not None) for aid, vec, title, dup in rows]


def update_story(conn: Connection, stats: StoryStats, rep: StoryMember) -> None:
    """Store a live story's counts, span, representative and title."""
    conn.execute(update(Story).where(Story.id == stats.story_id).values(
        article_count=stats.article_count, outlet_count=stats.outlet_count, first_seen_at=stats.first_seen_at,
        last_seen_at=stats.last_seen_at, representative_article_id=rep.article_id, title=rep.title,
        merged_into=None, updated_at=utcnow()))


def stories_of(engine: Engine, article_ids: list[int]) -> list[int]:
    """The stories the given articles belong to now."""
    with engine.connect() as conn:
        return sorted({s for (s,) in _select_in(conn, lambda c: select(StoryArticle.story_id)
                                                .where(StoryArticle.article_id.in_(c)), article_ids)})


# ---------------------------------------------------------------------------
# recomputing a range
# ---------------------------------------------------------------------------

def articles_in_range(conn: Connection, since: datetime, until: datetime) -> set[int]:
    """Articles published (or, lacking a date, first seen) in ``[since, until)``."""
    return set(conn.execute(select(Article.id).where(or_(
        (Article.published_at >= since) & (Article.published_at < until),
        Article.published_at.is_(None) & (Article.first_seen_at >= since) & (Article.first_seen_at < until),
    ))).scalars())


def release_range(conn: Connection, ids: set[int]) -> tuple[set[int], set[int], set[int]]:
    """Take ``ids`` out of their duplicate groups and stories; returns (redo, dead, alive).

    Duplicate groups touching the range are dissolved whole (``redo``: the range
    and every member of those groups), so no copy outside the range is left
    pointing at a stale original. Stories left empty are deleted with their merge
    records, and so are the stories merged into them (``dead``); the others that
    lost members (``alive``) need their summaries refreshed.
    """
    roots = {r for (r,) in _select_in(conn, lambda c: select(ArticleSignature.dup_root).where(
        ArticleSignature.article_id.in_(c), ArticleSignature.dup_root.isnot(None)), ids)}
    group = {a for (a,) in _select_in(conn, lambda c: select(ArticleSignature.article_id)
                                      .where(ArticleSignature.dup_root.in_(c)), roots)}
    redo = ids | group | roots
    for c in _chunks(redo):
        conn.execute(update(Article).where(Article.id.in_(c)).values(duplicate_of=None, duplicate_kind=None))
        conn.execute(update(ArticleSignature).where(ArticleSignature.article_id.in_(c)).values(dup_root=None))
    affected = {s for (s,) in _select_in(conn, lambda c: select(StoryArticle.story_id)
                                         .where(StoryArticle.article_id.in_(c)), ids)}
    for c in _chunks(ids):
        conn.execute(delete(StoryArticle).where(StoryArticle.article_id.in_(c)))
    alive = {s for (s,) in _select_in(conn, lambda c: select(StoryArticle.story_id).distinct()
                                      .where(StoryArticle.story_id.in_(c)), affected)}
    dead = affected - alive
    frontier = set(dead)
    while frontier:  # stories merged into an emptied story go with it
        frontier = {s for (s,) in _select_in(conn, lambda c: select(Story.id).where(Story.merged_into.in_(c)),
                                             frontier)} - dead
        dead |= frontier
    for c in _chunks(dead):
        conn.execute(delete(StoryMerge).where(or_(StoryMerge.from_story_id.in_(c), StoryMerge.into_story_id.in_(c))))
        conn.execute(update(Story).where(Story.merged_into.in_(c)).values(merged_into=None))
    for c in _chunks(dead):
        conn.execute(delete(Story).where(Story.id.in_(c)))
    return redo, dead, alive
