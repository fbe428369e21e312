"""Every query the digest makes: the day's stories, their sources, tags and threads,
and the rows the topic notes and maps of content are projected from.

Returns the typed records of :mod:`newsroom.digest.records`; composition and
rendering never see a connection's rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select, tuple_
from sqlalchemy.engine import Connection

from newsroom.warehouse.digest_rows import ArticleRow, ArticleTag, RedditThread, RelatedStory, StoryBundle
from newsroom.warehouse import digest_tables as T
from newsroom.warehouse.schema.core import Source
from newsroom.warehouse.schema.digest import Digest, DigestItem, EntityTimeline

MAX_SOURCES = 20
REDDIT_CUTOFF = timedelta(hours=12)  # engagement as it stood half a day after the day ended


def chunks(seq: Sequence, n: int = 500) -> Iterable[Sequence]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def _article_rows(conn: Connection, where) -> list[ArticleRow]:
    a = T.articles
    rows = conn.execute(
        select(a.c.id, a.c.url, a.c.canonical_url, a.c.outlet, a.c.title, a.c.text, a.c.description,
               a.c.published_at, a.c.first_seen_at, a.c.origin, a.c.source_id, a.c.duplicate_of, a.c.sitename).where(where)
    ).all()
    out = [ArticleRow(id=r.id, url=r.url, canonical_url=r.canonical_url, outlet=r.outlet, title=r.title, text=r.text,
                      description=r.description, published_at=r.published_at, first_seen_at=r.first_seen_at,
                      origin=r.origin or "feed", source_id=r.source_id, duplicate_of=r.duplicate_of,
                      sitename=r.sitename) for r in rows]
    _attach_source_tags(conn, out)
    return out


def _attach_source_tags(conn: Connection, rows: list[ArticleRow]) -> None:
    ids = sorted({r.source_id for r in rows if r.source_id is not None})
    if not ids:
        return
    s = Source.__table__
    tags: dict[int, tuple[str, ...]] = {}
    for chunk in chunks(ids):
        for sid, t in conn.execute(select(s.c.id, s.c.tags).where(s.c.id.in_(chunk))):
            tags[sid] = tuple(x for x in (t or []) if isinstance(x, str))
    for r in rows:
        r.source_tags = tags.get(r.source_id, ())


def day_articles(conn: Connection, window: tuple[datetime, datetime]) -> list[ArticleRow]:
    """Originals (not duplicates) published — or, undated, first seen — in the window."""
    a = T.articles
    start, end = window
    where = and_(
        a.c.duplicate_of.is_(None),
        or_(
            and_(a.c.published_at >= start, a.c.published_at < end),
            and_(a.c.published_at.is_(None), a.c.first_seen_at >= start, a.c.first_seen_at < end),
        ),
    )
    return sorted(_article_rows(conn, where), key=lambda r: (r.at, r.id))


def _resolve_merges(conn: Connection, ids: set[int]) -> dict[int, tuple[int, str | None]]:
    """story id → (final story id, final title), following ``merged_into``."""
    s = T.stories
    info: dict[int, tuple] = {}
    todo = set(ids)
    for _ in range(50):  # merge chains are short; the cap guards against a cycle
        if not todo:
            break
        for chunk in chunks(sorted(todo)):
            for sid, title, merged in conn.execute(
                select(s.c.id, s.c.title, s.c.merged_into).where(s.c.id.in_(chunk))
            ):
                info[sid] = (merged, title)
        todo = {m for (m, _) in info.values() if m is not None and m not in info}
    out = {}
    for sid in ids:
        cur, seen = sid, set()
        while cur in info and info[cur][0] is not None and cur not in seen:
            seen.add(cur)
            cur = info[cur][0]
        out[sid] = (cur, info[cur][1] if cur in info else None)
    return out


def load_bundles(conn: Connection, window: tuple[datetime, datetime]) -> tuple[list[StoryBundle], int]:
    """The day's stories (and loose articles) with their cited originals, the originals'
    syndicated copies, tags and Reddit threads. Returns (bundles, articles in the window)."""
    todays = day_articles(conn, window)
    ids = [a.id for a in todays]
    story_of: dict[int, int] = {}
    if ids:
        for chunk in chunks(ids):
            for sid, aid in conn.execute(
                select(T.story_articles.c.story_id, T.story_articles.c.article_id).where(
                    T.story_articles.c.article_id.in_(chunk))
            ):
                story_of[aid] = sid
    final = _resolve_merges(conn, set(story_of.values())) if story_of else {}
    groups: dict[int, set[int]] = defaultdict(set)  # final story → member story ids seen today
    day_ids_by_story: dict[int, set[int]] = defaultdict(set)
    for aid, sid in story_of.items():
        fid = final[sid][0]
        groups[fid].add(sid)
        day_ids_by_story[fid].add(aid)
    bundles: list[StoryBundle] = []
    a = T.articles
    for fid in sorted(groups):
        member_ids = sorted(groups[fid] | {fid})
        art_ids = [r[0] for r in conn.execute(
            select(T.story_articles.c.article_id).where(T.story_articles.c.story_id.in_(member_ids)))]
        rows: list[ArticleRow] = []
        for chunk in chunks(sorted(set(art_ids))):
            rows.extend(_article_rows(conn, and_(
                a.c.id.in_(chunk), a.c.duplicate_of.is_(None),
                func.coalesce(a.c.published_at, a.c.first_seen_at) < window[1])))
        rows.sort(key=lambda r: (r.at, r.id))
        title = next((t for (f, t) in final.values() if f == fid and t), None)
        bundles.append(StoryBundle(str(fid), fid, title, rows[:MAX_SOURCES], day_ids_by_story[fid]))
    for art in todays:
        if art.id not in story_of:
            bundles.append(StoryBundle(f"a{art.id}", None, art.title, [art], {art.id}))
    _attach_copies(conn, bundles, window)
    _attach_tags(conn, bundles)
    _attach_reddit(conn, bundles, window)
    return bundles, len(todays)


def _attach_copies(conn: Connection, bundles: list[StoryBundle], window) -> None:
    """Duplicates (syndicated or reprinted copies) of each cited original, dated before the window's end."""
    a = T.articles
    owner = {art.id: b for b in bundles for art in b.articles}
    for chunk in chunks(sorted(owner)):
        for row in _article_rows(conn, and_(a.c.duplicate_of.in_(chunk),
                                            func.coalesce(a.c.published_at, a.c.first_seen_at) < window[1])):
            owner[row.duplicate_of].copies.setdefault(row.duplicate_of, []).append(row)
    for b in bundles:
        for copies in b.copies.values():
            copies.sort(key=lambda r: (r.at, r.id))


def _attach_tags(conn: Connection, bundles: list[StoryBundle]) -> None:
    all_ids = sorted({a.id for b in bundles for a in b.articles})
    ae, e = T.article_entities, T.entities
    per_article: dict[int, list[ArticleTag]] = defaultdict(list)
    for chunk in chunks(all_ids):
        for row in conn.execute(
            select(ae.c.article_id, ae.c.entity_id, ae.c.mentions, ae.c.in_title, ae.c.salience,
                   e.c.name, e.c.type, e.c.aliases)
            .join(e, e.c.id == ae.c.entity_id)
            # an entity dropped from the entities file stays in old notes, but makes no new lines
            .where(ae.c.article_id.in_(chunk), e.c.active.isnot(False))
            .order_by(ae.c.article_id, ae.c.entity_id)
        ):
            per_article[row.article_id].append(ArticleTag(
                row.article_id, row.entity_id, int(row.mentions or 0), bool(row.in_title), float(row.salience or 0.0),
                row.name or row.entity_id, row.type, row.aliases))
    for b in bundles:
        b.tags = {art.id: per_article.get(art.id, []) for art in b.articles}


def _attach_reddit(conn: Connection, bundles: list[StoryBundle], window) -> None:
    p, s, c = T.reddit_posts, T.reddit_snapshots, T.reddit_comments
    by_article: dict[int, StoryBundle] = {}
    by_url: dict[str, StoryBundle] = {}
    for b in bundles:
        for a in b.articles:
            by_article[a.id] = b
            by_url[a.url] = b
            by_url[a.canonical_url] = b
    posts: dict[str, tuple] = {}
    for chunk in chunks(sorted(by_article)):
        for row in conn.execute(select(p).where(p.c.article_id.in_(chunk))):
            posts[row.id] = (row, by_article[row.article_id])
    for chunk in chunks(sorted(by_url)):
        for row in conn.execute(select(p).where(p.c.url.in_(chunk))):
            posts.setdefault(row.id, (row, by_url[row.url]))
    if not posts:
        return
    cutoff = window[1] + REDDIT_CUTOFF
    snaps: dict[str, list] = defaultdict(list)
    comments: dict[str, list] = defaultdict(list)
    ids = sorted(posts)
    for chunk in chunks(ids):
        for row in conn.execute(select(s.c.post_id, s.c.taken_at, s.c.score, s.c.num_comments)
                                .where(s.c.post_id.in_(chunk))):
            snaps[row.post_id].append(row)
        for row in conn.execute(select(c).where(c.c.post_id.in_(chunk), c.c.depth == 0)
                                .order_by(c.c.post_id, c.c.rank, c.c.id)):
            if len(comments[row.post_id]) < 3:
                comments[row.post_id].append(
                    {"author": row.author or "[deleted]", "body": row.body or "", "score": int(row.score or 0)})
    for pid in ids:
        row, bundle = posts[pid]
        history = sorted(snaps.get(pid, []), key=lambda r: (r.taken_at, r.score))
        if not history:
            continue
        before = [h for h in history if h.taken_at <= cutoff]
        snap = before[-1] if before else history[0]  # reproducible whenever the day is (re)built
        bundle.reddit.append(RedditThread(pid, row.subreddit, row.title, row.permalink, int(snap.score or 0),
                                          int(snap.num_comments or 0), comments.get(pid, [])))
    for b in bundles:
        b.reddit.sort(key=lambda r: (-r.score, r.post_id))


def related_stories(conn: Connection, story_id: int | None, entity_ids: Sequence[str], window, tz: ZoneInfo,
                    days: int, min_salience: float) -> list[RelatedStory]:
    """Earlier stories (last seen in the ``days`` before the window) that *name* the story's main
    entities prominently: an entity implied by a child (``mentions = 0``) or named in passing is no link."""
    if days <= 0 or not entity_ids:
        return []
    s, sa, ae = T.stories, T.story_articles, T.article_entities
    q = (
        select(s.c.id, s.c.title, s.c.last_seen_at, func.count(func.distinct(ae.c.entity_id)).label("shared"))
        .select_from(s.join(sa, sa.c.story_id == s.c.id).join(ae, ae.c.article_id == sa.c.article_id))
        .where(ae.c.entity_id.in_(list(entity_ids)), ae.c.mentions > 0, ae.c.salience >= min_salience,
               s.c.merged_into.is_(None),
               s.c.last_seen_at >= window[0] - timedelta(days=days), s.c.last_seen_at < window[0])
        .group_by(s.c.id, s.c.title, s.c.last_seen_at)
    )
    if story_id is not None:
        q = q.where(s.c.id != story_id)
    rows = sorted(conn.execute(q).all(), key=lambda r: (-r.shared, -r.last_seen_at.timestamp(), r.id))[:3]
    return [RelatedStory(r.id, r.title, r.last_seen_at.astimezone(tz).date()) for r in rows]


# ----------------------------------------------------------------------------- notes' projections
def entity_catalogue(conn: Connection) -> list:
    """Every ``entities`` row (id order)."""
    return conn.execute(select(T.entities).order_by(T.entities.c.id)).all()


def entities_with_timeline(conn: Connection, beat: str) -> set[str]:
    """Entities that have at least one Timeline line on the beat: the ones with a topic note."""
    tl = EntityTimeline.__table__
    return {r[0] for r in conn.execute(select(tl.c.entity_id).where(tl.c.beat == beat).distinct())}


def timeline_rows(conn: Connection, entity_id: str, beat: str) -> list:
    tl = EntityTimeline.__table__
    return conn.execute(
        select(tl.c.day, tl.c.rank, tl.c.line, tl.c.digest_title, tl.c.story_key, tl.c.story_id)
        .where(tl.c.entity_id == entity_id, tl.c.beat == beat)
        .order_by(tl.c.day, tl.c.rank, tl.c.story_key)
    ).all()


def cooccurring_entities(conn: Connection, entity_id: str, beat: str, keys: Sequence[tuple]) -> dict[str, int]:
    """Other entities with a Timeline line on the same (day, story) as ``entity_id``, with counts."""
    tl = EntityTimeline.__table__
    co: dict[str, int] = defaultdict(int)
    for chunk in chunks(list(keys), 200):
        for other, n in conn.execute(
            select(tl.c.entity_id, func.count())
            .where(tl.c.beat == beat, tl.c.entity_id != entity_id, tuple_(tl.c.day, tl.c.story_key).in_(chunk))
            .group_by(tl.c.entity_id)
        ):
            co[other] += n
    return co


def item_headlines(conn: Connection, beat: str, keys: Sequence[tuple[date, int]]) -> dict[tuple[date, int], str]:
    """(day, rank) → the digest item's headline, for the rows a topic note shows."""
    di = DigestItem.__table__
    out = {}
    for chunk in chunks(list(keys), 200):
        for d, rank, headline in conn.execute(
            select(di.c.day, di.c.rank, di.c.headline).where(di.c.beat == beat, tuple_(di.c.day, di.c.rank).in_(chunk))
        ):
            out[(d, rank)] = headline
    return out


def timeline_stats(conn: Connection, beat: str, entity_ids: Sequence[str]) -> dict[str, tuple[int, date]]:
    """entity id → (days in the digest, latest day)."""
    tl = EntityTimeline.__table__
    stats = {}
    for chunk in chunks(list(entity_ids)):
        for eid, n, last in conn.execute(
            select(tl.c.entity_id, func.count(func.distinct(tl.c.day)), func.max(tl.c.day))
            .where(tl.c.beat == beat, tl.c.entity_id.in_(chunk)).group_by(tl.c.entity_id)
        ):
            stats[eid] = (n, last)
    return stats


def entity_categories(conn: Connection, entity_id: str):
    return conn.execute(select(T.entities.c.categories).where(T.entities.c.id == entity_id)).scalar()


def digest_days(conn: Connection, beat: str) -> set[date]:
    d = Digest.__table__
    return {r[0] for r in conn.execute(select(d.c.day).where(d.c.beat == beat))}
