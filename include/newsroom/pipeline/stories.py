"""Duplicates and stories for newly stored articles, incrementally: the sequencing.

Each chunk: read the candidates (:mod:`newsroom.warehouse.stories`) → decide
(:mod:`newsroom.dedup.engine`, pure) → write (:mod:`newsroom.warehouse.stories`).

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
earlier one). Chunks run one at a time (``warehouse.stories.batch_transaction``), so no pair falls
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
from datetime import datetime, timedelta

from newsroom.dedup.engine import (
    batch_story_links,
    duplicate_links,
    representative,
    resolve_duplicates,
    resolve_stories,
)
from newsroom.dedup.links import ArticleFeatures, article_features
from newsroom.warehouse import Warehouse
from newsroom.warehouse import stories as store

log = logging.getLogger(__name__)

CHUNK = 500


def _refresh_stories(conn, story_ids: set[int]) -> None:
    """Counts, time span, representative article and title of each story."""
    if not story_ids:
        return
    for stats in store.story_stats(conn, story_ids):
        store.update_story(conn, stats, representative(store.story_members(conn, stats.story_id)))


def _process_chunk(conn, feats: list[ArticleFeatures], window: timedelta, counts: dict) -> None:
    store.store_features(conn, feats)
    # duplicates: same hash, or an LSH bucket shared and verified on the signatures
    cands = store.bucket_candidates(conn, feats)
    batch_ids = {f.id for f in feats}
    sigs = store.signatures(conn, {c for cs in cands.values() for c in cs} - batch_ids)
    dup_links = duplicate_links(feats, store.same_hash(conn, (f.text_hash for f in feats)), cands, sigs)
    if dup_links:
        store.apply_duplicates(conn, resolve_duplicates(dup_links, store.duplicate_state(conn, dup_links)))
    # stories: index terms shared within the window, scored pair by pair
    term_cands = store.term_candidates(conn, feats, window)
    linked = {c for cs in term_cands.values() for c in cs}
    stored = store.neighbours(conn, linked - batch_ids)
    ents = store.entity_weights(conn, set(term_cands) | linked) if term_cands else {}
    links = batch_story_links(feats, term_cands, stored, ents, window.total_seconds() / 3600.0, dup_links)
    plan = resolve_stories(feats, links, store.story_state(conn, feats, links))
    store.apply_story_plan(conn, plan)
    for k, v in plan.counts().items():
        counts[k] += v
    _refresh_stories(conn, plan.touched)
    for k, v in store.duplicate_counts(conn, [f.id for f in feats]).items():
        counts[k] += v
    counts["processed"] += len(feats)


def pending_article_ids(engine: Warehouse) -> list[int]:
    """Articles the dedup stage has not seen (no features stored)."""
    return store.pending_dedup_ids(engine)


def process_articles(engine: Warehouse, article_ids: list[int] | None = None, *, window_hours: int = 72) -> dict:
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
    ordered = store.articles_in_time_order(engine, ids)
    for start in range(0, len(ordered), CHUNK):
        with store.batch_transaction(engine) as conn:
            feats = [article_features(a) for a in store.article_texts(conn, ordered[start:start + CHUNK])]
            _process_chunk(conn, feats, window, counts)
    log.info("dedup/stories: %s", counts)
    return counts


def recompute_stories(engine: Warehouse, since: datetime, until: datetime, *, window_hours: int = 72) -> dict:
    """Rebuild duplicates and stories of the articles dated in [since, until).

    For offline reprocessing (new parameters, repaired text). The range's
    articles leave their duplicate groups and stories (stories left empty are
    deleted with their merge records); then they are processed again against
    the archive. Duplicate groups touching the range are rebuilt whole, so no
    copy outside the range is left pointing at a stale original.
    """
    with store.batch_transaction(engine) as conn:
        ids = store.articles_in_range(conn, since, until)
        if not ids:
            return process_articles(engine, [], window_hours=window_hours)
        redo, dead, alive = store.release_range(conn, ids)
        _refresh_stories(conn, alive)
    counts = process_articles(engine, sorted(redo), window_hours=window_hours)
    counts["stories_deleted"] = len(dead)
    return counts
