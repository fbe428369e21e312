"""Duplicates and stories for newly stored articles, incrementally.

    counts = process_articles(engine)                 # every article without a signature yet
    counts = process_articles(engine, [12, 13, 14])   # just these (reprocessing is idempotent)
    recompute_stories(engine, since, until)           # offline: rebuild a date range

How it stays incremental: each article's features (normalised-text hash,
MinHash signature, term vectors) are computed once and stored in
``article_signatures``; its LSH band keys go to ``lsh_bands`` and its strongest
terms to ``article_terms``. A new article finds its neighbours by looking up
its own keys (duplicates: ``BANDS`` bucket lookups over the whole archive;
stories: ``INDEX_TERMS`` term lookups restricted to the time window), so the
work per article depends on how many articles share its keys, not on the size
of the archive.

How it stays order-independent: every decision is a symmetric function of a
*pair* of articles (``is_near_duplicate``, ``story_similarity``, summed in a
fixed order) and candidate lookup finds every qualifying pair from either side:
all articles sharing an LSH bucket, all articles in the window sharing
``MIN_SHARED_INDEX_TERMS`` index terms, with no cap (a cap ranks candidates
against the rest of the archive, so the later article of a pair could miss the
earlier one). Chunks run one at a time (``_one_writer``), so no pair falls
between two concurrent transactions. So the set of links is the same whatever
the order of runs and the batch sizes, and duplicate groups and stories are the
connected components of those links:

- a duplicate group's original is its earliest member by (published_at or
  first_seen_at, canonical_url); every other member gets ``duplicate_of`` = original and
  ``duplicate_kind`` exact/near. When an earlier copy arrives late, the group is
  re-pointed at it.
- a story is a component of story links (and duplicate links). A new article
  linked to no story starts one; linked to one, joins it; linked to several,
  bridges them: they merge into the earliest, the others keep their row with
  ``merged_into`` set and the merge is logged in ``story_merges``.

Story ids are the id of the founding article (unique, no sequence needed);
which article founds a story can depend on the order of runs, the partition of
articles into stories does not.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

import numpy as np
from scipy.cluster.hierarchy import DisjointSet
from sqlalchemy import Engine, delete, func, inspect, insert, or_, select, text, update
from sqlalchemy.engine import Connection

from newsroom.dedup.links import (
    ArticleFeatures,
    Neighbour,
    article_features,
    near_duplicate_links,
    story_links,
)
from newsroom.dedup.terms import MIN_SHARED_INDEX_TERMS, cosine
from newsroom.dedup.text import band_keys, signature_bytes, signature_from_bytes
from newsroom.warehouse import upsert
from newsroom.warehouse.schema import Article, utcnow
from newsroom.warehouse.schema.stories import (
    ArticleSignature,
    ArticleTerm,
    LshBand,
    Story,
    StoryArticle,
    StoryMerge,
)

log = logging.getLogger(__name__)

PARAMS_VERSION = 1
CHUNK = 500
REPRESENTATIVE_SAMPLE = 100
IN_CHUNK = 900  # bound parameters per IN (…) list, well under SQLite's limit
LOCK_KEY = 0x6E7273746F7279  # "nrstory": the PostgreSQL advisory lock of this stage


def _one_writer(conn: Connection) -> None:
    """Hold this stage's lock until the transaction ends.

    Links are found by looking up what is stored, so two chunks processed in
    concurrent transactions would not see each other's articles and a pair split
    across them would never be linked (two runs at once, a reprocess beside an
    ingest). On PostgreSQL a transaction-scoped advisory lock serialises the
    chunks; SQLite already has a single writer, and a chunk's lookups all come
    after its first write, so they see everything committed before it.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})


def _chunks(seq, n=IN_CHUNK):
    seq = list(seq)
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


def _select_in(conn: Connection, stmt_for, ids):
    """Run ``stmt_for(chunk)`` over ``ids`` in chunks and concatenate the rows."""
    out = []
    for chunk in _chunks(ids):
        out.extend(conn.execute(stmt_for(chunk)).all())
    return out


def _has_entities(conn: Connection) -> bool:
    return inspect(conn).has_table("article_entities")


def _entity_weights(conn: Connection, ids) -> dict[int, dict[str, float]]:
    """{article_id: {entity_id: weight}} from ``article_entities`` (built by the tagging stage)."""
    out: dict[int, dict[str, float]] = defaultdict(dict)
    rows = _select_in(conn, lambda c: text(
        "SELECT article_id, entity_id, salience FROM article_entities WHERE article_id IN ("
        + ",".join(str(int(i)) for i in c) + ")"), ids)
    for aid, eid, sal in rows:
        out[aid][str(eid)] = float(sal) if sal is not None else 1.0
    return out


# ---------------------------------------------------------------------------
# one chunk
# ---------------------------------------------------------------------------

def _store_features(conn: Connection, feats: list[ArticleFeatures]) -> None:
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


def _duplicate_links(conn: Connection, feats: list[ArticleFeatures]) -> set[tuple[int, int]]:
    """Pairs (a, b), a < b, of exact or near duplicates involving an article of ``feats``."""
    links: set[tuple[int, int]] = set()
    by_hash: dict[str, list[int]] = defaultdict(list)
    hashes = {f.text_hash for f in feats if f.text_hash}
    for aid, h in _select_in(conn, lambda c: select(ArticleSignature.article_id, ArticleSignature.text_hash)
                             .where(ArticleSignature.text_hash.in_(c)), hashes):
        by_hash[h].append(aid)
    for f in feats:
        for other in by_hash.get(f.text_hash, ()) if f.text_hash else ():
            if other != f.id:
                links.add((min(f.id, other), max(f.id, other)))
    # near: LSH buckets, then verification on the full signatures. Every article
    # sharing a band bucket is a candidate, with no cap: a cap keeps *some* of an
    # article's candidates, chosen relative to what else is stored, so a pair could
    # be found from one side and not the other, and the groups would depend on
    # which article came first (issue 13).
    candidates: dict[int, set[int]] = {}
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
            candidates[f.id] = cands
    need = {c for cs in candidates.values() for c in cs}
    sigs: dict[int, tuple[np.ndarray, int]] = {
        f.id: (f.signature, f.shingle_count) for f in feats if f.signature is not None}
    need -= sigs.keys()
    for aid, blob, n in _select_in(conn, lambda c: select(
            ArticleSignature.article_id, ArticleSignature.minhash, ArticleSignature.shingle_count)
            .where(ArticleSignature.article_id.in_(c)), need):
        if blob is not None:
            sigs[aid] = (signature_from_bytes(blob), n)
    links |= near_duplicate_links(candidates, sigs)
    return links


def _story_links(conn: Connection, feats: list[ArticleFeatures], window: timedelta,
                 use_entities: bool) -> dict[tuple[int, int], float]:
    """{(a, b): score} for pairs within ``window`` similar enough to be one story."""
    # Candidates: every article in the window sharing at least MIN_SHARED_INDEX_TERMS
    # index terms. The rule is symmetric (a fixed count, not one relative to either
    # article's term count) and uncapped (a cap ranks candidates against the rest of
    # the archive, so the later article of a pair could miss the earlier one); so
    # each qualifying pair is found whichever of the two is processed second.
    cand: dict[int, list[int]] = {}
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
            cand[f.id] = [r[0] for r in rows]
    neighbours: dict[int, Neighbour] = {f.id: Neighbour(f.at, f.outlet, f.vector, f.title_vector) for f in feats}
    need_ids = {c for cs in cand.values() for c in cs} - neighbours.keys()
    for aid, at, outlet, vec, tvec in _select_in(conn, lambda c: select(
            ArticleSignature.article_id, ArticleSignature.at, ArticleSignature.outlet, ArticleSignature.vector,
            ArticleSignature.title_vector).where(ArticleSignature.article_id.in_(c)), need_ids):
        neighbours[aid] = Neighbour(at, outlet, vec or {}, tvec or {})
    ents: dict[int, dict[str, float]] = {}
    if use_entities and cand:
        ents = _entity_weights(conn, set(cand) | {c for cs in cand.values() for c in cs})
    return story_links(cand, neighbours, ents, window.total_seconds() / 3600.0)


def _resolve_duplicates(conn: Connection, feats: list[ArticleFeatures], links: set[tuple[int, int]]) -> None:
    """Group duplicates (with the groups they touch in the archive) and point every
    copy at the group's earliest member."""
    if not links:
        return
    touched = {a for pair in links for a in pair}
    roots = {r for (r,) in _select_in(conn, lambda c: select(ArticleSignature.dup_root)
                                      .where(ArticleSignature.article_id.in_(c), ArticleSignature.dup_root.isnot(None)),
                                      touched)}
    members: dict[int, int | None] = {}  # article -> current dup_root
    for aid, root in _select_in(conn, lambda c: select(ArticleSignature.article_id, ArticleSignature.dup_root)
                                .where(or_(ArticleSignature.article_id.in_(c), ArticleSignature.dup_root.in_(c))),
                                touched | roots):
        members[aid] = root
    ds = DisjointSet(sorted(members))
    for aid, root in members.items():
        if root is not None and root in members:
            ds.merge(aid, root)
    for a, b in sorted(links):
        if a in members and b in members:
            ds.merge(a, b)
    info = {aid: (at, h, url) for aid, at, h, url in _select_in(conn, lambda c: select(
        ArticleSignature.article_id, ArticleSignature.at, ArticleSignature.text_hash, Article.canonical_url)
        .join(Article, Article.id == ArticleSignature.article_id)
        .where(ArticleSignature.article_id.in_(c)), members)}
    current = {aid: (dup, kind) for aid, dup, kind in _select_in(conn, lambda c: select(
        Article.id, Article.duplicate_of, Article.duplicate_kind).where(Article.id.in_(c)), members)}
    for group in ds.subsets():
        if len(group) < 2:
            continue
        # Ties on the date (syndicated copies often carry the same timestamp) go to the
        # canonical URL, not the id: ids follow arrival order, URLs don't.
        original = min(group, key=lambda a: (info[a][0], info[a][2], a))
        for aid in sorted(group):
            want = (None, None) if aid == original else (
                original, "exact" if info[aid][1] and info[aid][1] == info[original][1] else "near")
            if current.get(aid) != want:
                conn.execute(update(Article).where(Article.id == aid)
                             .values(duplicate_of=want[0], duplicate_kind=want[1]))
            if members.get(aid) != original:
                conn.execute(update(ArticleSignature).where(ArticleSignature.article_id == aid)
                             .values(dup_root=original))


def _new_story_id(conn: Connection, founder: int, taken: set[int]) -> int:
    if founder not in taken and conn.execute(select(Story.id).where(Story.id == founder)).first() is None:
        return founder
    # The founder's id is already a (dead) story's id: only after a partial recompute.
    top = max(conn.execute(select(func.max(Story.id))).scalar() or 0,
              conn.execute(select(func.max(Article.id))).scalar() or 0, max(taken, default=0))
    return top + 1


def _resolve_stories(conn: Connection, feats: list[ArticleFeatures], links: dict[tuple[int, int], float],
                     counts: dict) -> set[int]:
    """Join, start or merge stories for the articles of ``feats``; returns touched live story ids."""
    batch = {f.id for f in feats if f.vector}
    if not batch:
        return set()
    nodes = batch | {a for pair in links for a in pair}
    membership = dict(_select_in(conn, lambda c: select(StoryArticle.article_id, StoryArticle.story_id)
                                 .where(StoryArticle.article_id.in_(c)), nodes))
    # Articles without a story (the batch, or neighbours left homeless by a recompute) are free nodes.
    free = sorted(a for a in nodes if a not in membership)
    ds = DisjointSet([("a", a) for a in free] + [("s", s) for s in sorted(set(membership.values()))])

    def node(a: int):
        return ("s", membership[a]) if a in membership else ("a", a)

    best: dict[int, float] = defaultdict(float)
    for (a, b), score in sorted(links.items()):
        ds.merge(node(a), node(b))
        best[a] = max(best[a], score)
        best[b] = max(best[b], score)
    story_rows = dict(_select_in(conn, lambda c: select(Story.id, Story.first_seen_at).where(Story.id.in_(c)),
                                 set(membership.values())))
    at_of = {aid: at for aid, at in _select_in(conn, lambda c: select(ArticleSignature.article_id, ArticleSignature.at)
                                                .where(ArticleSignature.article_id.in_(c)), free)}
    touched: set[int] = set()
    taken: set[int] = set()
    now = utcnow()
    for group in sorted(ds.subsets(), key=lambda g: min(g)):
        stories = sorted(s for kind, s in group if kind == "s")
        arts = sorted(a for kind, a in group if kind == "a")
        if not arts and len(stories) < 2:
            continue
        if not stories:
            founder = min(arts, key=lambda a: (at_of[a], a))
            sid = _new_story_id(conn, founder, taken)
            taken.add(sid)
            first = min(at_of[a] for a in arts)
            conn.execute(insert(Story).values(id=sid, first_seen_at=first, last_seen_at=first, article_count=0,
                                              outlet_count=0, created_at=now, updated_at=now))
            counts["stories_created"] += 1
        else:
            sid = min(stories, key=lambda s: (story_rows[s], s))
            counts["stories_joined"] += sum(1 for a in arts if a in batch)
            others = [s for s in stories if s != sid]
            if others:
                bridge = min((a for a in arts if a in batch), default=None)
                conn.execute(update(StoryArticle).where(StoryArticle.story_id.in_(others)).values(story_id=sid))
                conn.execute(update(Story).where(or_(Story.id.in_(others), Story.merged_into.in_(others)))
                             .values(merged_into=sid, article_count=0, outlet_count=0, updated_at=now))
                upsert(conn, StoryMerge, [{"from_story_id": s, "into_story_id": sid, "bridge_article_id": bridge,
                                           "merged_at": now} for s in others], keys=["from_story_id"])
                counts["merges"] += len(others)
        if arts:
            upsert(conn, StoryArticle, [{"article_id": a, "story_id": sid, "similarity": best.get(a) or None,
                                         "added_at": now} for a in arts], keys=["article_id"],
                   update=["story_id", "similarity"])
        touched.add(sid)
    return touched


def _refresh_stories(conn: Connection, story_ids: set[int]) -> None:
    """Counts, time span, representative article and title of each story."""
    if not story_ids:
        return
    stats = _select_in(conn, lambda c: select(
        StoryArticle.story_id, func.count(), func.count(func.distinct(ArticleSignature.outlet)),
        func.min(ArticleSignature.at), func.max(ArticleSignature.at))
        .join(ArticleSignature, ArticleSignature.article_id == StoryArticle.article_id)
        .where(StoryArticle.story_id.in_(c)).group_by(StoryArticle.story_id), story_ids)
    now = utcnow()
    for sid, n, outlets, first, last in stats:
        members = conn.execute(
            select(ArticleSignature.article_id, ArticleSignature.vector, Article.title, Article.duplicate_of)
            .join(StoryArticle, StoryArticle.article_id == ArticleSignature.article_id)
            .join(Article, Article.id == ArticleSignature.article_id)
            .where(StoryArticle.story_id == sid)
            .order_by(ArticleSignature.at, ArticleSignature.article_id).limit(REPRESENTATIVE_SAMPLE)).all()
        centroid: dict[str, float] = defaultdict(float)
        for _, vec, _, _ in members:
            for t, w in (vec or {}).items():
                centroid[t] += w
        rep = min(members, key=lambda m: (m.duplicate_of is not None, not m.title,
                                          -round(cosine(m.vector or {}, centroid), 9), m.article_id))
        conn.execute(update(Story).where(Story.id == sid).values(
            article_count=n, outlet_count=outlets, first_seen_at=first, last_seen_at=last,
            representative_article_id=rep.article_id, title=rep.title, merged_into=None, updated_at=now))


def _process_chunk(conn: Connection, rows, window: timedelta, use_entities: bool, counts: dict) -> None:
    feats = [article_features(r) for r in rows]
    _store_features(conn, feats)
    dup_links = _duplicate_links(conn, feats)
    _resolve_duplicates(conn, feats, dup_links)
    links = _story_links(conn, feats, window, use_entities)
    for pair in dup_links:  # a copy is always in its original's story, whatever the window
        links.setdefault(pair, 1.0)
    touched = _resolve_stories(conn, feats, links, counts)
    _refresh_stories(conn, touched)
    ids = [f.id for f in feats]
    for aid, kind in _select_in(conn, lambda c: select(Article.id, Article.duplicate_kind)
                                .where(Article.id.in_(c), Article.duplicate_of.isnot(None)), ids):
        counts["exact_dups" if kind == "exact" else "near_dups"] += 1
    counts["processed"] += len(feats)


_ARTICLE_COLUMNS = (Article.id, Article.title, Article.text, Article.description, Article.language, Article.outlet,
                    Article.sitename, Article.canonical_url, Article.published_at, Article.first_seen_at)


def pending_article_ids(engine: Engine) -> list[int]:
    """Articles the dedup stage has not seen (no ``article_signatures`` row)."""
    with engine.connect() as conn:
        return list(conn.execute(
            select(Article.id).outerjoin(ArticleSignature, ArticleSignature.article_id == Article.id)
            .where(ArticleSignature.article_id.is_(None)).order_by(Article.id)).scalars())


def process_articles(engine: Engine, article_ids: list[int] | None = None, *, window_hours: int = 72) -> dict:
    """Find duplicates and stories for ``article_ids`` (default: every article not yet
    processed by this stage), comparing them with each other and with the archive.

    Works in chunks of ``CHUNK`` articles in (time, id) order, one transaction
    each, so a crash loses at most the chunk in flight and a rerun finishes the
    rest. Returns counts: processed, exact_dups, near_dups, stories_created,
    stories_joined, merges.
    """
    counts = dict.fromkeys(("processed", "exact_dups", "near_dups", "stories_created", "stories_joined",
                            "merges"), 0)
    ids = pending_article_ids(engine) if article_ids is None else sorted(set(article_ids))
    if not ids:
        return counts
    window = timedelta(hours=window_hours)
    with engine.connect() as conn:
        keyed = _select_in(conn, lambda c: select(
            Article.id, func.coalesce(Article.published_at, Article.first_seen_at)).where(Article.id.in_(c)), ids)
        use_entities = _has_entities(conn)

    def _key(r):
        at = r[1]
        if isinstance(at, str):  # SQLite returns coalesce() of two timestamps as text
            at = datetime.fromisoformat(at)
        return (at.replace(tzinfo=None) if at.tzinfo else at, r[0])

    ordered = [r[0] for r in sorted(keyed, key=_key)]
    for chunk in _chunks(ordered, CHUNK):
        with engine.begin() as conn:
            _one_writer(conn)
            rows = conn.execute(select(*_ARTICLE_COLUMNS).where(Article.id.in_(chunk))).all()
            order = {aid: i for i, aid in enumerate(chunk)}
            rows.sort(key=lambda r: order[r.id])
            _process_chunk(conn, rows, window, use_entities, counts)
    log.info("dedup/stories: %s", counts)
    return counts


def recompute_stories(engine: Engine, since: datetime, until: datetime, *, window_hours: int = 72) -> dict:
    """Rebuild duplicates and stories of the articles dated in [since, until).

    For offline reprocessing (new parameters, repaired text). The range's
    articles leave their duplicate groups and stories (stories left empty are
    deleted with their merge records); then they are processed again against
    the archive. Duplicate groups touching the range are rebuilt whole, so no
    copy outside the range is left pointing at a stale original.
    """
    with engine.begin() as conn:
        _one_writer(conn)
        ids = set(conn.execute(select(Article.id).where(or_(
            (Article.published_at >= since) & (Article.published_at < until),
            Article.published_at.is_(None) & (Article.first_seen_at >= since) & (Article.first_seen_at < until),
        ))).scalars())
        if not ids:
            return process_articles(engine, [], window_hours=window_hours)
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
        empty = affected - alive
        dead = set(empty)
        frontier = set(empty)
        while frontier:  # stories merged into an emptied story go with it
            frontier = {s for (s,) in _select_in(conn, lambda c: select(Story.id).where(Story.merged_into.in_(c)),
                                                 frontier)} - dead
            dead |= frontier
        for c in _chunks(dead):
            conn.execute(delete(StoryMerge).where(or_(StoryMerge.from_story_id.in_(c),
                                                      StoryMerge.into_story_id.in_(c))))
            conn.execute(update(Story).where(Story.merged_into.in_(c)).values(merged_into=None))
        for c in _chunks(dead):
            conn.execute(delete(Story).where(Story.id.in_(c)))
        _refresh_stories(conn, alive)
    counts = process_articles(engine, sorted(redo), window_hours=window_hours)
    counts["stories_deleted"] = len(dead)
    return counts
