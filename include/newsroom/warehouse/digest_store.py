"""Writing a day's digest rows (``digests``, ``digest_items``, ``entity_timeline``: their one
writer): upserts on natural keys, then the day's leftovers deleted.

Runs inside :func:`digest_transaction`, which the caller (``newsroom.digest.write``) holds
open while it writes the vault files, so the rows commit only once every file is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection, Engine

from newsroom.warehouse import upsert
from newsroom.warehouse.digest_reads import chunks
from newsroom.warehouse.schema.base import utcnow
from newsroom.warehouse.schema.digest import Digest, DigestItem, EntityTimeline


@contextmanager
def digest_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction for storing a day's digest: the reads the notes are projected from and
    :func:`replace_day_rows` share it; it commits when the block ends, rolls back if it raises."""
    with engine.begin() as conn:
        yield conn


def replace_day_rows(conn: Connection, digest_row: dict, item_rows: list[dict], timeline_rows: list[dict]) -> set[str]:
    """Upsert the day's ``digests``/``digest_items``/``entity_timeline`` rows and drop the day's rows
    that no longer apply. Returns the entities that had a Timeline line that day *before*."""
    tl, di = EntityTimeline.__table__, DigestItem.__table__
    day, beat = digest_row["day"], digest_row["beat"]
    before = {r[0] for r in conn.execute(select(tl.c.entity_id).where(tl.c.day == day, tl.c.beat == beat))}
    upsert(conn, Digest, [{**digest_row, "generated_at": utcnow()}], keys=["day", "beat"])
    upsert(conn, DigestItem, item_rows, keys=["day", "beat", "rank"])
    conn.execute(delete(di).where(di.c.day == day, di.c.beat == beat, di.c.rank > len(item_rows)))
    upsert(conn, EntityTimeline, timeline_rows, keys=["entity_id", "day", "beat", "story_key"])
    keep = {(r["entity_id"], r["story_key"]) for r in timeline_rows}
    stale = [
        r.id for r in conn.execute(select(tl.c.id, tl.c.entity_id, tl.c.story_key)
                                   .where(tl.c.day == day, tl.c.beat == beat))
        if (r.entity_id, r.story_key) not in keep
    ]
    for chunk in chunks(stale):
        conn.execute(delete(tl).where(tl.c.id.in_(chunk)))
    return before
