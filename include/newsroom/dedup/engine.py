"""The incremental duplicate and story engine's decisions, pure over typed records.

The warehouse (:mod:`newsroom.warehouse.stories`) reads what a batch needs — its
articles' features, the archive's candidates sharing their keys, the groups and
stories those candidates are in — and writes back what this module decides;
:mod:`newsroom.pipeline.stories` only sequences the two. Nothing here knows of a
database, so every rule below can be tested by shuffling its input:

    links = duplicate_links(feats, same_hash, bucket_candidates, signatures)
    changes = resolve_duplicates(links, DuplicateState(...))
    story = batch_story_links(feats, term_candidates, neighbours, entities, 72.0, links)
    plan = resolve_stories(feats, story, StoryState(...))
    rep = representative(members)

Why the result does not depend on order: links are symmetric functions of a
pair (:mod:`newsroom.dedup.links`), groups are connected components of links
(union-find over sorted input), and every choice inside a group — the original
of a duplicate group, the story that survives a merge, the founder of a new
story, a story's representative — is a ``min`` over a total order on values
(date, canonical URL, id), never "whichever came first in the input".

- A duplicate group's original is its earliest member by (date, canonical URL,
  id); every other member points at it, ``exact`` when their normalised-text
  hashes match, else ``near``. An earlier copy arriving late re-points the group.
- A story is a component of story (and duplicate) links. A new article linked
  to no story founds one (its id is the founder's id); linked to one, joins it;
  linked to several, bridges them: they merge into the earliest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from scipy.cluster.hierarchy import DisjointSet

from .links import ArticleFeatures, Neighbour, near_duplicate_links, story_links
from .terms import cosine

Pair = tuple[int, int]


# ---------------------------------------------------------------------------
# duplicates
# ---------------------------------------------------------------------------

def exact_duplicate_links(feats: Iterable[ArticleFeatures], same_hash: Mapping[str, Iterable[int]]) -> set[Pair]:
    """Pairs (a, b), a < b, of articles of ``feats`` and the articles ``same_hash``
    ({text hash: ids stored with it}) lists under their own hash."""
    links: set[Pair] = set()
    for f in feats:
        if not f.text_hash:
            continue
        for other in same_hash.get(f.text_hash, ()):
            if other != f.id:
                links.add((min(f.id, other), max(f.id, other)))
    return links


def duplicate_links(feats: Iterable[ArticleFeatures], same_hash: Mapping[str, Iterable[int]],
                    bucket_candidates: Mapping[int, set[int]],
                    signatures: Mapping[int, tuple[np.ndarray, int]]) -> set[Pair]:
    """Exact pairs (same normalised-text hash) and near pairs (an LSH bucket shared,
    verified on the full MinHash signatures) involving an article of ``feats``.

    ``bucket_candidates``: {article of the batch: every article sharing one of its
    band buckets}, uncapped (a cap keeps candidates chosen relative to the rest of the
    archive, so a pair could be found from one side only: issue 13). ``signatures``:
    {id: (signature, shingle count)} of the batch and of those candidates.
    """
    feats = list(feats)
    sigs = dict(signatures)
    for f in feats:
        if f.signature is not None:
            sigs[f.id] = (f.signature, f.shingle_count)
    return exact_duplicate_links(feats, same_hash) | near_duplicate_links(dict(bucket_candidates), sigs)


@dataclass(frozen=True)
class DuplicateInfo:
    """What choosing a group's original needs of one article."""

    at: datetime
    text_hash: str | None
    canonical_url: str


@dataclass
class DuplicateState:
    """The stored duplicate groups the links touch.

    ``roots``: {member: its current group root or None}, for every article linked
    and every member of a group one of them is in; ``info``: {member:
    :class:`DuplicateInfo`}; ``current``: {member: (duplicate_of, duplicate_kind)}
    as stored on the article.
    """

    roots: dict[int, int | None]
    info: dict[int, DuplicateInfo]
    current: dict[int, tuple[int | None, str | None]] = field(default_factory=dict)


@dataclass(frozen=True)
class DuplicateChange:
    """One article's new place in its group: ``duplicate_of``/``kind`` (None for the
    original), and ``root`` (the group's original) when the stored root differs."""

    article_id: int
    duplicate_of: int | None
    kind: str | None
    set_pointer: bool  # duplicate_of/kind differ from what is stored
    set_root: bool     # the stored group root is not ``root``
    root: int


def resolve_duplicates(links: Iterable[Pair], state: DuplicateState) -> list[DuplicateChange]:
    """Merge the linked articles with the stored groups they touch; point every copy at
    its group's earliest member. Returns only what changes, in article order."""
    links = sorted(set(links))
    if not links:
        return []
    members = state.roots
    ds = DisjointSet(sorted(members))
    for aid, root in sorted(members.items()):
        if root is not None and root in members:
            ds.merge(aid, root)
    for a, b in links:
        if a in members and b in members:
            ds.merge(a, b)
    info = state.info
    out: list[DuplicateChange] = []
    for group in ds.subsets():
        if len(group) < 2:
            continue
        # Ties on the date (syndicated copies often carry the same timestamp) go to the
        # canonical URL, not the id: ids follow arrival order, URLs don't.
        original = min(group, key=lambda a: (info[a].at, info[a].canonical_url, a))
        for aid in sorted(group):
            if aid == original:
                want: tuple[int | None, str | None] = (None, None)
            else:
                exact = info[aid].text_hash and info[aid].text_hash == info[original].text_hash
                want = (original, "exact" if exact else "near")
            set_pointer = state.current.get(aid) != want
            set_root = members.get(aid) != original
            if set_pointer or set_root:
                out.append(DuplicateChange(aid, want[0], want[1], set_pointer, set_root, original))
    out.sort(key=lambda c: c.article_id)
    return out


# ---------------------------------------------------------------------------
# stories
# ---------------------------------------------------------------------------

def batch_story_links(feats: Iterable[ArticleFeatures], candidates: Mapping[int, list[int]],
                      stored: Mapping[int, Neighbour], entities: Mapping[int, dict[str, float]],
                      window_hours: float, dup_links: Iterable[Pair] = ()) -> dict[Pair, float]:
    """{(a, b): score} of the batch's story links: each article of ``feats`` against its
    ``candidates`` (the batch's own features, else the ``stored`` neighbours), plus every
    duplicate link at 1.0 — a copy is always in its original's story, whatever the window."""
    near = dict(stored)
    near.update({f.id: Neighbour(f.at, f.outlet, f.vector, f.title_vector) for f in feats})
    links = story_links(dict(candidates), near, dict(entities), window_hours)
    for pair in sorted(dup_links):
        links.setdefault(pair, 1.0)
    return links


@dataclass
class StoryState:
    """The stored stories the batch's links touch.

    ``membership``: {article: its story} for the linked articles that have one;
    ``story_first_seen``: {story: first_seen_at} of those stories; ``at``: {article:
    date} of the articles without a story; ``ids_in_use``: the story ids among those
    articles' ids (a founder's id taken by a dead story, after a partial recompute);
    ``top_id``: the highest story or article id stored (new ids go above it).
    """

    membership: dict[int, int]
    story_first_seen: dict[int, datetime]
    at: dict[int, datetime]
    ids_in_use: set[int] = field(default_factory=set)
    top_id: int = 0


@dataclass(frozen=True)
class StoryGroup:
    """What one connected group of the batch becomes.

    ``story_id`` survives (``new`` when the group founds it, dated ``first_seen_at``);
    ``merged`` stories are folded into it, bridged by ``bridge_article_id``;
    ``members`` are (article, best link score or None) joining it.
    """

    story_id: int
    new: bool
    first_seen_at: datetime | None
    merged: tuple[int, ...]
    bridge_article_id: int | None
    members: tuple[tuple[int, float | None], ...]
    joined: int  # articles of the batch joining an existing story


@dataclass
class StoryPlan:
    groups: list[StoryGroup]

    @property
    def touched(self) -> set[int]:
        return {g.story_id for g in self.groups}

    def counts(self) -> dict[str, int]:
        return {"stories_created": sum(g.new for g in self.groups),
                "stories_joined": sum(g.joined for g in self.groups),
                "merges": sum(len(g.merged) for g in self.groups)}


def story_nodes(feats: Iterable[ArticleFeatures], links: Mapping[Pair, float]) -> tuple[set[int], set[int]]:
    """(batch, nodes): the batch's articles that can be in a story (they have a term
    vector) and every article the grouping looks at (those and everything linked)."""
    batch = {f.id for f in feats if f.vector}
    if not batch:
        return batch, set()
    return batch, batch | {a for pair in links for a in pair}


def resolve_stories(feats: Iterable[ArticleFeatures], links: Mapping[Pair, float], state: StoryState) -> StoryPlan:
    """Join, found or merge stories for the articles of ``feats``, given the links among
    them and the archive (``story_links`` plus duplicate links) and the stored stories."""
    batch, nodes = story_nodes(feats, links)
    if not batch:
        return StoryPlan([])
    membership = {a: s for a, s in state.membership.items() if a in nodes}
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
    groups: list[StoryGroup] = []
    taken: set[int] = set()
    for group in sorted(ds.subsets(), key=lambda g: min(g)):
        stories = sorted(s for kind, s in group if kind == "s")
        arts = sorted(a for kind, a in group if kind == "a")
        if not arts and len(stories) < 2:
            continue
        members = tuple((a, best.get(a) or None) for a in arts)
        if not stories:
            founder = min(arts, key=lambda a: (state.at[a], a))
            if founder not in taken and founder not in state.ids_in_use:
                sid = founder
            else:  # the founder's id is a (dead) story's id: only after a partial recompute
                sid = max(state.top_id, max(taken, default=0)) + 1
            taken.add(sid)
            groups.append(StoryGroup(sid, True, min(state.at[a] for a in arts), (), None, members, 0))
        else:
            sid = min(stories, key=lambda s: (state.story_first_seen[s], s))
            others = tuple(s for s in stories if s != sid)
            bridge = min((a for a in arts if a in batch), default=None) if others else None
            groups.append(StoryGroup(sid, False, None, others, bridge, members,
                                     sum(1 for a in arts if a in batch)))
    return StoryPlan(groups)


@dataclass(frozen=True)
class StoryMember:
    """A story's member as choosing its representative sees it."""

    article_id: int
    vector: dict[str, float]
    title: str | None
    is_copy: bool  # a duplicate of another article


def representative(members: list[StoryMember]) -> StoryMember:
    """The member nearest the story's centroid, preferring originals with a title;
    ties go to the lowest id."""
    centroid: dict[str, float] = defaultdict(float)
    for m in members:
        for t, w in (m.vector or {}).items():
            centroid[t] += w
    return min(members, key=lambda m: (m.is_copy, not m.title, -round(cosine(m.vector or {}, centroid), 9),
                                       m.article_id))
