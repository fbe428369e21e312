"""Offline reprocessing of a date range: re-extract, re-deduplicate, re-tag — no network.

    counts = reprocess_range(engine, date(2026, 3, 1), date(2026, 3, 31), settings=get_settings())
    days = days_in_range(date(2026, 3, 1), date(2026, 3, 31))   # digests to regenerate

Why it exists: the extractor improves, the dedup parameters change, the
entities file gains an entity — and history should follow without fetching
anything again (the pages may be gone, and refetching a month is rude). Every
page body the pipeline ever fetched is kept in the capture store and referenced
from ``articles.capture_id``, so all three stages can be rerun from the
warehouse and the captures alone.

What it guarantees:

* **Ids are kept.** Articles are updated in place (``id`` and ``canonical_url``
  never change), so stories, tags, Reddit links and digests that cite an
  article keep pointing at it.
* **Nothing is lost.** A capture that has gone missing, or a re-extraction that
  now fails where the stored text was good, leaves the stored article as it
  was; the reason is counted in ``failures_by_reason``.
* **Idempotent.** Running the same range twice gives the same rows; each stage
  function it calls replaces the range's own rows.

Order matters: text first (everything else reads it), then entity tags (the
story stage uses shared entities as evidence), then duplicates and stories,
then the per-story entity aggregates over the stories the range now belongs to.

Dates are local days of the newsroom's timezone, ``until`` included — what an
operator types in the trigger form; datetimes are taken as a half-open UTC
range ``[since, until)``.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from newsroom.fetch.charset import html_as_utf8
from newsroom.warehouse import Warehouse
from newsroom.warehouse.articles import ReExtraction, apply_reextractions, article_ids_dated_in, stored_pages
from newsroom.warehouse.stories import stories_of

log = logging.getLogger(__name__)

BATCH = 200
# Fields the page itself is the authority for; title/author/date come from the
# feed first (as when the article was stored) and are only filled when missing.
_PAGE_FIELDS = ("text", "text_hash", "word_count", "extraction_status", "extraction_reason", "language",
                "sitename", "description")


class ReprocessCounts(BaseModel):
    """What :func:`reprocess_range` did; ``model_dump()`` is what XCom carries."""

    since: str
    until: str
    articles: int = 0
    re_extracted: int = 0
    text_changed: int = 0
    kept_previous: int = 0
    no_capture: int = 0
    failures_by_reason: dict[str, int] = Field(default_factory=dict)
    tagging: dict[str, Any] = Field(default_factory=dict)
    stories: dict[str, Any] = Field(default_factory=dict)
    story_entities: dict[str, Any] = Field(default_factory=dict)


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def range_window(since: date | datetime, until: date | datetime, tz: ZoneInfo | str = "UTC") -> tuple[datetime, datetime]:
    """The UTC half-open window ``[start, end)`` of a reprocessing range.

    Dates are local days in ``tz`` with ``until`` included (``since=until``
    is one day), matching the digest's notion of a day; datetimes are used as
    given (naive ones are UTC). Raises ``ValueError`` for an empty or reversed range.
    """
    from newsroom.digest.window import day_window

    start = _as_utc(since) if isinstance(since, datetime) else day_window(since, tz)[0]
    end = _as_utc(until) if isinstance(until, datetime) else day_window(until, tz)[1]
    if end <= start:
        raise ValueError(f"empty reprocessing range: since {since} is not before until {until}")
    return start, end


def days_in_range(since: date, until: date) -> list[date]:
    """Every local day from ``since`` to ``until`` inclusive (the digests to regenerate)."""
    if isinstance(since, datetime) or isinstance(until, datetime):
        raise TypeError("days_in_range takes dates")
    if until < since:
        raise ValueError(f"until {until} is before since {since}")
    return [since + timedelta(days=i) for i in range((until - since).days + 1)]


def article_ids_in_window(engine: Warehouse, start: datetime, end: datetime) -> list[int]:
    """Articles published (or, lacking a date, first seen) in ``[start, end)`` — the digest's rule."""
    return article_ids_dated_in(engine, start, end)


def re_extract_articles(engine: Warehouse, article_ids: list[int], *, store, workers: int = 0) -> dict:
    """Re-run extraction on the stored page captures of ``article_ids`` and update them in place.

    Returns counts and ``changed``: the ids whose text changed (their dedup
    signatures and tags are stale until re-deduplicated / re-tagged).
    """
    from newsroom.extract.pool import ExtractTask, extract_many
    from newsroom.warehouse.articles import normalised_text_hash
    from newsroom.pipeline.outcome import raise_if_extraction_broken

    counts: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    changed: list[int] = []
    for i in range(0, len(article_ids), BATCH):
        chunk = article_ids[i : i + BATCH]
        rows = stored_pages(engine, chunk)
        tasks, todo = [], []
        for r in rows:
            if r.path is None or r.kind != "page":
                counts["no_capture"] += 1
                continue
            try:
                body = store.get(r.path)
            except (FileNotFoundError, OSError, ValueError) as exc:
                reasons[f"capture_missing: {type(exc).__name__}"] += 1
                log.warning("article %s: capture %s unreadable (%s); keeping the stored text", r.id, r.path, exc)
                continue
            html = html_as_utf8(body, r.capture_type)  # decoded as at ingest (same declared charset)
            tasks.append(ExtractTask(url=r.capture_url or r.url, html=html, feed_fallback=r.feed_fallback))
            todo.append(r)
        results = extract_many(tasks, workers=workers)
        raise_if_extraction_broken(results)  # a broken pool is not "kept previous text" 200 times over
        updates: list[ReExtraction] = []
        for r, ex in zip(todo, results):
            counts["re_extracted"] += 1
            if ex.status == "failed" and r.text:
                # The old text came from somewhere good; a worse extractor must not erase it.
                counts["kept_previous"] += 1
                reasons[(ex.reason or "failed").split(":")[0]] += 1
                continue
            if ex.status != "ok":
                reasons[(ex.reason or ex.status).split(":")[0]] += 1
            text = ex.text or None
            up = ReExtraction(
                article_id=r.id, text=text, text_hash=normalised_text_hash(text),
                word_count=len(text.split()) if text else 0, extraction_status=ex.status,
                extraction_reason=ex.reason, language=ex.language, sitename=ex.sitename,
                description=ex.description,
                title=ex.title if not r.title and ex.title else None,
                author=ex.author if not r.author and ex.author else None,
                published_at=ex.published_at if r.published_at is None else None)
            updates.append(up)
            if up.text_hash != r.text_hash:
                changed.append(r.id)
        apply_reextractions(engine, updates)
    return {"re_extracted": counts["re_extracted"], "kept_previous": counts["kept_previous"],
            "no_capture": counts["no_capture"], "text_changed": len(changed), "changed": changed,
            "failures_by_reason": dict(reasons)}


def story_ids_of(engine: Warehouse, article_ids: list[int]) -> list[int]:
    """The stories the given articles belong to now."""
    return stories_of(engine, article_ids)


def reprocess_range(
    engine: Warehouse,
    since: date | datetime,
    until: date | datetime,
    *,
    settings,
    re_extract: bool = True,
    re_dedup: bool = True,
    re_tag: bool = True,
    tz: ZoneInfo | str | None = None,
    entities=None,
    workers: int | None = None,
) -> dict:
    """Reprocess every article of the range from the warehouse and the raw captures.

    ``tz`` defaults to the sources file's timezone (dates are its local days);
    ``entities`` to the file named by ``settings.entities``. Returns
    :class:`ReprocessCounts` as a dict.
    """
    from newsroom.captures import CaptureStore

    if tz is None:
        from newsroom.config import load_sources

        tz = load_sources(settings.sources).tz
    start, end = range_window(since, until, tz)
    counts = ReprocessCounts(since=start.isoformat(), until=end.isoformat())
    ids = article_ids_in_window(engine, start, end)
    counts.articles = len(ids)
    if not ids:
        return counts.model_dump()

    if re_extract:
        ex = re_extract_articles(engine, ids, store=CaptureStore(settings.data_dir),
                                 workers=settings.extract_workers if workers is None else workers)
        counts.re_extracted, counts.kept_previous = ex["re_extracted"], ex["kept_previous"]
        counts.no_capture, counts.text_changed = ex["no_capture"], ex["text_changed"]
        counts.failures_by_reason = ex["failures_by_reason"]

    if re_tag:
        from newsroom.config.entities import load_entities
        from newsroom.entities import retag_range

        tagging = retag_range(engine, start, end, entities or load_entities(settings.entities))
        counts.tagging = {k: v for k, v in tagging.items() if not k.startswith("_")}

    if re_dedup:
        from newsroom.pipeline.stories import recompute_stories

        counts.stories = recompute_stories(engine, start, end)

    if re_tag or re_dedup:
        from newsroom.entities import aggregate_story_entities

        # Membership may have changed: the range's stories (and only those) get fresh aggregates.
        counts.story_entities = aggregate_story_entities(engine, story_ids_of(engine, ids))

    if re_extract and not (re_dedup and re_tag) and counts.text_changed:
        log.warning("%d articles got new text but %s not rerun: their %s stale until you do", counts.text_changed,
                    "dedup" if not re_dedup else "tagging", "signatures are" if not re_dedup else "tags are")
    log.info("reprocessed %s: %s", f"[{start}, {end})", counts.model_dump(exclude={"tagging", "stories"}))
    return counts.model_dump()
