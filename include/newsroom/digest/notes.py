"""The vault's notes rendered from records: the day's digest, entity topic notes, maps of content.

Every wikilink a note writes points at a note the vault has: a digest day that was built,
an entity with a topic note (one Timeline line at least), a map of content with such an entity.
Anything else is plain text. ``noted`` — the entities with a topic note — is passed in by the
writer, which knows it after storing the day's Timeline rows.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from .compose import day_label
from .records import DigestBuild, DigestItem, ElsewhereItem
from .relevance import _aliases
from .render import front_matter, inline, link, plain, render, tag, wikilink
from .vault import safe_name

DIGESTS_FOLDER = "digests"
ENTITIES_FOLDER = "entities"
GENERATOR = "newsroom"
KEY_DEVELOPMENTS = 5


# ----------------------------------------------------------------------------- naming
def beat_slug(beat: str) -> str:
    return safe_name(beat).replace(" ", "-")


def digest_name(day: date, beat: str) -> str:
    """``YYYY-MM-DD-{Beat}-Digest``: the digest note's name and wikilink target.

    Passed through :func:`safe_name` as a whole, so the name links point at is the very
    name the vault writes the file under."""
    return safe_name(f"{day.isoformat()}-{beat_slug(beat)}-Digest")


def moc_name(category: str) -> str:
    c = plain(category, 200)
    c = c[len("MOC - "):] if c.lower().startswith("moc - ") else c
    return safe_name(f"MOC - {c.strip()}")


def json_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def entity_note_names(catalogue: Sequence) -> dict[str, str]:
    """Entity id → note name, unique case-insensitively (by id order, so stable)."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for row in sorted(catalogue, key=lambda r: r.id):
        base = safe_name(row.name or row.id)
        cand = base
        if cand.casefold() in taken:
            cand = safe_name(f"{base} ({row.id})")
        n = 2
        while cand.casefold() in taken:
            cand = safe_name(f"{base} ({row.id}) {n}")
            n += 1
        taken.add(cand.casefold())
        names[row.id] = cand
    return names


def _md(text: Any, limit: int = 300) -> str:
    return inline(text, limit)


# ----------------------------------------------------------------------------- the digest
def item_row(item: DigestItem, day: date, beat: str) -> dict:
    """The ``digest_items`` row of an item."""
    return {
        "day": day, "beat": beat, "rank": item.rank, "featured": item.featured, "story_id": item.story_id,
        "headline": item.headline, "score": item.score, "category": item.category,
        "summary": item.summary, "summary_method": item.summary_method,
        "key_figures": [{k: v for k, v in f.items() if k not in ("refs", "new")} for f in item.key_figures],
        "sources": [s.as_row() for s in item.sources],
        "entities": [{"id": e.id, "name": e.name, "type": e.type, "primary": e.primary, "articles": e.article_count,
                      "salience": e.salience} for e in item.entities],
        "reddit": [r.as_row() for r in item.reddit],
    }


def timeline_rows(items: Sequence[DigestItem], day: date, beat: str, name: str) -> list[dict]:
    return [
        {"entity_id": e.id, "day": day, "beat": beat, "story_id": it.story_id, "story_key": it.key,
         "rank": it.rank, "line": it.line, "digest_title": name}
        for it in items if it.featured for e in it.primary_entities
    ]


def digest_build(
    day: date, beat: str, tz: ZoneInfo, window: tuple[datetime, datetime], items: list[DigestItem],
    elsewhere: list[ElsewhereItem], names: dict[str, str], *, n_articles: int, feeds_checked: int,
    subreddits_checked: int, counts: dict, figure_phrases: dict[str, str] | None = None,
) -> DigestBuild:
    """Render the day's note and the rows that go with it.

    ``figure_phrases``: entity id → " (65,024 GitHub stars, +1.2k this week)", appended once to
    the entity's name in each story (``newsroom.metrics.render.story_figure_phrases``)."""
    phrases = figure_phrases or {}
    name = digest_name(day, beat)
    tl_rows = timeline_rows(items, day, beat, name)
    noted_today = {r["entity_id"] for r in tl_rows}
    views = []
    for it in items:
        if not it.featured:
            continue
        views.append({
            "rank": it.rank, "headline": it.headline, "category": it.category, "tldr": it.tldr,
            "outlet_count": it.independent_outlets, "source_count": len(it.sources),
            "first_reported": day_label(it.first_reported) if it.first_reported else None,
            "new_outlets": it.new_outlets if it.continuing else [],
            "new_sources": sum(1 for s in it.sources if s.new),
            "sources": [{**s.as_row(), "new": s.new and it.continuing} for s in it.sources],
            "key_figures": it.key_figures,
            "entity_links": [wikilink(names[e.id]) + phrases.get(e.id, "") for e in it.primary_entities
                             if e.id in names and e.id in noted_today],
            "also_mentions": [e.name + phrases.get(e.id, "") for e in it.entities if not e.primary][:12],
            "reddit": it.reddit[:3],
            # earlier stories, with a link to the shared entity's note (which this very day writes)
            "related": [f"{_md(r.title or 'story')} ({day_label(r.day)} {r.day.year})" for r in it.related],
            "related_via": [wikilink(names[e.id]) for e in it.primary_entities[:2] if e.id in names
                            and e.id in noted_today] if it.related else [],
        })
    also = [{"headline": it.headline, "outlets": [s.outlet for s in it.sources][:6],
             "url": it.sources[0].url if it.sources else None,
             "first_reported": day_label(it.first_reported) if it.first_reported else None}
            for it in items if not it.featured]
    title = f"{beat} Digest — {day.strftime('%A %-d %B %Y')}"
    local = [w.astimezone(tz) for w in window]
    window_label = f"{local[0]:%Y-%m-%d %H:%M} to {local[1]:%Y-%m-%d %H:%M} {tz.key}"
    fm = front_matter({
        "title": name, "date": day.isoformat(), "beat": plain(beat, 60), "type": "digest",
        "tags": ["digest", tag(beat)], "stories": len(items), "articles": n_articles,
        "feeds_checked": feeds_checked, "subreddits_checked": subreddits_checked,
        "entities": [plain(names.get(e, e), 200) for e in sorted(noted_today)], "generator": GENERATOR,
    })
    markdown = render(
        "digest.md.j2", front_matter=fm, heading=title, feeds_checked=feeds_checked,
        subreddits_checked=subreddits_checked, articles_count=n_articles, stories_count=len(items),
        window_label=window_label, items=views, also=also,
        elsewhere=[{"headline": e.headline, "outlets": e.outlets[:4], "url": e.url} for e in elsewhere],
    )
    digest_row = {
        "day": day, "beat": beat, "title": name, "markdown": markdown, "feeds_checked": feeds_checked,
        "subreddits_checked": subreddits_checked, "articles_count": n_articles, "stories_count": len(items),
        "window_start": window[0], "window_end": window[1], "path": f"{DIGESTS_FOLDER}/{safe_name(name)}.md",
        "content_hash": hashlib.sha256(markdown.encode()).hexdigest(),
    }
    all_counts = {"articles": n_articles, "stories": len(items), "featured": len(views), "also": len(also),
                  "elsewhere": len(elsewhere), **counts}
    return DigestBuild(day, beat, name, title, window, markdown, digest_row,
                       [item_row(it, day, beat) for it in items], tl_rows, all_counts, items, elsewhere)


# ----------------------------------------------------------------------------- topic notes
def entity_note(entity, rows: Sequence, headlines: dict, cooccurring: dict[str, int], names: dict[str, str],
                noted: set[str], figures: Sequence[tuple[str, str]] = ()) -> str | None:
    """The entity's topic note from its catalogue row and Timeline rows; None without Timeline rows.

    ``headlines``: (day, rank) → digest item headline, for Key developments and Related stories.
    ``figures``: (label, value) pairs for a "Figures" section — the hook entity metrics fill."""
    if entity is None or not rows:
        return None
    eid = entity.id

    def ref(x: str) -> str | None:
        return wikilink(names[x]) if x in names and x in noted else None

    timeline, seen_days, others = [], set(), []
    for r in rows:  # one line per day: the entity's best-ranked story that day
        if r.day in seen_days:
            others.append(r)
            continue
        seen_days.add(r.day)
        timeline.append({"day": r.day.isoformat(), "digest": safe_name(r.digest_title), "line": r.line})
    # Key developments: the stories that featured it on most days (then best rank), latest line of each
    by_story: dict[str, list] = defaultdict(list)
    for r in rows:
        by_story[r.story_key].append(r)
    ranked = sorted(by_story.values(), key=lambda rs: (-len({x.day for x in rs}), min(x.rank for x in rs),
                                                        min(x.day for x in rs), rs[0].story_key))
    developments = []
    for rs in ranked[:KEY_DEVELOPMENTS]:
        first, last = min(rs, key=lambda x: (x.day, x.rank)), max(rs, key=lambda x: (x.day, -x.rank))
        developments.append({"headline": headlines.get((last.day, last.rank)) or last.line,
                             "days": len({x.day for x in rs}), "first": first.day.isoformat(),
                             "digest": safe_name(first.digest_title)})
    related_stories = [{"day": r.day.isoformat(), "digest": safe_name(r.digest_title),
                        "headline": headlines.get((r.day, r.rank)) or r.line} for r in others[:10]]
    cooc = sorted(cooccurring, key=lambda k: (-cooccurring[k], names.get(k, k).casefold()))[:8]
    categories = [c for c in json_list(entity.categories) if isinstance(c, str)]
    related = [r for r in json_list(entity.related) if isinstance(r, str)]
    see_ids = [x for x in dict.fromkeys([*cooc, *([entity.parent_id] if entity.parent_id else []), *related])
               if x != eid]
    see_also = [ref(x) for x in see_ids if ref(x)] + [wikilink(moc_name(c)) for c in categories]
    facts: list[tuple[str, str]] = []
    if entity.type:
        facts.append(("Type", _md(entity.type, 60)))
    parent_name = names.get(entity.parent_id, entity.parent_id) if entity.parent_id else None
    if entity.parent_id:
        facts.append(("Parent", ref(entity.parent_id) or _md(parent_name, 100)))
    aliases = [a for a in _aliases(entity.aliases) if a != entity.name]
    if aliases:
        facts.append(("Also known as", ", ".join(_md(a, 100) for a in aliases[:12])))
    links = entity.links if isinstance(entity.links, dict) else {}
    for k in sorted(links):
        if isinstance(links[k], str):
            facts.append((str(k).capitalize(), link(links[k], links[k])))
    if categories:
        facts.append(("Maps of content", ", ".join(wikilink(moc_name(c)) for c in categories)))
    facts.append(("Days in the digest", str(len(timeline))))
    tags = [tag(entity.type or "entity"), "topic-note"]
    if entity.parent_id and entity.parent_id in names:
        tags.append(tag(names[entity.parent_id]))
    fm = front_matter({
        "title": plain(entity.name or eid, 200), "id": plain(eid, 200), "type": plain(entity.type or "entity", 60),
        "tags": list(dict.fromkeys(tags)), "aliases": [plain(a, 200) for a in aliases[:12]],
        "first_digest": timeline[0]["day"], "last_digest": timeline[-1]["day"], "generator": GENERATOR,
    })
    return render(
        "entity.md.j2", front_matter=fm, name=entity.name or eid, type=entity.type or "entity",
        parent_link=ref(entity.parent_id) if entity.parent_id else None,
        parent_name=parent_name, description=entity.description, latest=timeline[-1], timeline=timeline,
        facts=facts, developments=developments if len(by_story) > 1 or len(timeline) > 1 else [],
        related_stories=related_stories, figures=list(figures), see_also=see_also,
    )


def moc_note(category: str, beat: str, members: Sequence, stats: dict[str, tuple[int, date]],
             names: dict[str, str], noted: set[str]) -> str | None:
    """``MOC - {Category}``: its entities that have a topic note, by type, with their digest days;
    None when none has (the map would only hold unresolved links)."""
    want = moc_name(category)
    groups: dict[str, list] = defaultdict(list)
    for m in members:
        if m.id not in noted or m.id not in names:
            continue
        n, last = stats.get(m.id, (0, None))
        groups[m.type or "entity"].append({
            "name": m.name or m.id, "link": wikilink(names[m.id]), "days": n,
            "latest": digest_name(last, beat) if last else None,
        })
    if not groups:
        return None
    view = [{"type": t, "entities": sorted(v, key=lambda x: (x["name"].casefold(), x["link"]))}
            for t, v in sorted(groups.items())]
    fm = front_matter({"title": want, "type": "moc", "tags": ["moc"], "generator": GENERATOR})
    return render("moc.md.j2", front_matter=fm, title=want, groups=view)


def moc_members(catalogue: Sequence, category: str) -> list:
    want = moc_name(category)
    return [r for r in catalogue if any(isinstance(c, str) and moc_name(c) == want for c in json_list(r.categories))]
