"""Rows the digest reads, written straight into a migrated warehouse.

Uses the owning stages' own tables (their models register them on
``Base.metadata``, so Python-side defaults apply) on the real migrated schema.
"""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy import Table

from newsroom.warehouse import upsert
from newsroom.warehouse.schema import Base

UTC = timezone.utc


def table(name: str) -> Table:
    """The owning stage's table (its model registers it on ``Base.metadata``)."""
    return Base.metadata.tables[name]


def add_article(conn, url: str, *, outlet: str, title: str, text: str, published_at: datetime | None,
                first_seen_at: datetime | None = None, duplicate_of: int | None = None, description=None) -> int:
    t = table("articles")
    now = first_seen_at or published_at or datetime(2026, 4, 9, 12, tzinfo=UTC)
    row = {"canonical_url": url, "url": url, "outlet": outlet, "title": title, "text": text,
           "description": description, "published_at": published_at, "first_seen_at": now,
           "extraction_status": "ok", "word_count": len(text.split()), "origin": "feed", "updated_at": now,
           "duplicate_of": duplicate_of}
    return upsert(conn, t, [row], keys=["canonical_url"], returning=["id"])[0][0]


def add_story(conn, story_id: int, article_ids: list[int], *, title: str, first: datetime, last: datetime,
              merged_into: int | None = None, outlets: int | None = None) -> None:
    upsert(conn, table("stories"), [{
        "id": story_id, "title": title, "representative_article_id": article_ids[0] if article_ids else None,
        "first_seen_at": first, "last_seen_at": last, "article_count": len(article_ids),
        "outlet_count": outlets or len(article_ids), "merged_into": merged_into,
    }], keys=["id"])
    if article_ids:
        upsert(conn, table("story_articles"),
               [{"story_id": story_id, "article_id": a, "similarity": 1.0} for a in article_ids],
               keys=["article_id"])


def add_entity(conn, eid: str, name: str, etype: str, *, categories=(), aliases=(), parent_id=None,
               description=None, links=None, related=()) -> None:
    row = {"id": eid, "name": name, "type": etype, "parent_id": parent_id, "categories": list(categories),
           "aliases": list(aliases), "description": description, "links": links or {}, "related": list(related)}
    t = table("entities")
    if "updated_at" in t.c:
        row["updated_at"] = datetime(2026, 4, 1, tzinfo=UTC)
    upsert(conn, t, [row], keys=["id"])


def tag(conn, article_id: int, entity_id: str, *, mentions: int = 2, in_title: bool = False,
        salience: float = 0.5) -> None:
    upsert(conn, table("article_entities"), [{
        "article_id": article_id, "entity_id": entity_id, "mentions": mentions, "in_title": in_title,
        "first_position": 0, "salience": salience,
    }], keys=["article_id", "entity_id"])


def add_reddit(conn, post_id: str, *, article_id: int | None, url: str, subreddit: str, score: int,
               comments: int, taken_at: datetime, top_comments: list[tuple[str, str, int]] = ()) -> None:
    upsert(conn, table("reddit_posts"), [{
        "id": post_id, "subreddit": subreddit, "title": f"thread {post_id}", "author": "op",
        "created_at": taken_at, "permalink": f"https://www.reddit.com/r/{subreddit}/comments/{post_id}/x/",
        "url": url, "domain": "example.com", "is_self": False, "over_18": False, "link_kind": "article",
        "article_id": article_id, "first_seen_at": taken_at, "last_seen_at": taken_at,
    }], keys=["id"])
    upsert(conn, table("reddit_snapshots"), [{
        "post_id": post_id, "run_key": taken_at.isoformat(), "taken_at": taken_at, "score": score,
        "num_comments": comments, "upvote_ratio": 0.9,
    }], keys=["post_id", "run_key"])
    for i, (author, body, sc) in enumerate(top_comments):
        upsert(conn, table("reddit_comments"), [{
            "id": f"{post_id}c{i}", "post_id": post_id, "parent_id": f"t3_{post_id}", "depth": 0,
            "author": author, "body": body, "score": sc, "created_at": taken_at, "rank": i,
            "first_seen_at": taken_at, "last_seen_at": taken_at,
        }], keys=["id"])


def count(conn, name: str, **where) -> int:
    t = table(name)
    q = sa.select(sa.func.count()).select_from(t)
    for k, v in where.items():
        q = q.where(t.c[k] == v)
    return conn.execute(q).scalar()
