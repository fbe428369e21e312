"""Storing a day's digest: rows and notes, all or nothing in the warehouse.

In one transaction: the day's rows are replaced (``warehouse.digest_store``), the digest note
is written, and every entity note the day touches is re-rendered whole from ``entities`` and
``entity_timeline`` — with the notes that link to those entities (children, ``related``) and
their maps of content, so a link appears the moment its target note does and goes when it goes.
The transaction commits only once every file is written.
"""

from __future__ import annotations

from newsroom.warehouse import digest_reads as Q
from newsroom.warehouse.digest_store import digest_transaction, replace_day_rows

from newsroom.metrics.render import entity_note_with_figures

from .notes import (ENTITIES_FOLDER, DIGESTS_FOLDER, GENERATOR, entity_note, entity_note_names, json_list,
                    moc_members, moc_name, moc_note)
from .records import DigestBuild
from .vault import Vault


def store_digest(engine, build: DigestBuild, vault: Vault) -> dict:
    """Replace the day's rows and write the digest, entity and MOC notes."""
    vault.ensure_writable()
    notes = removed = 0
    with digest_transaction(engine) as conn:
        before = replace_day_rows(conn, build.digest_row, build.item_rows, build.timeline_rows)
        path = vault.write_note(DIGESTS_FOLDER, build.name, build.markdown)
        touched = set(before | {r["entity_id"] for r in build.timeline_rows})
        if touched:
            catalogue = Q.entity_catalogue(conn)
            names = entity_note_names(catalogue)
            noted = Q.entities_with_timeline(conn, build.beat)
            by_id = {r.id: r for r in catalogue}
            # notes that link to a touched entity (as parent or related) change with it
            linked = {r.id for r in catalogue if r.id in noted and (
                r.parent_id in touched or any(x in touched for x in json_list(r.related)))}
            categories: set[str] = set()
            for eid in sorted(touched | linked):
                if eid not in names:
                    continue
                rows = Q.timeline_rows(conn, eid, build.beat)
                text = None
                if rows:
                    headlines = Q.item_headlines(conn, build.beat, sorted({(r.day, r.rank) for r in rows}))
                    co = Q.cooccurring_entities(conn, eid, build.beat, [(r.day, r.story_key) for r in rows])
                    text = entity_note(by_id.get(eid), rows, headlines, co, names, noted)
                    if text:  # the "Figures" section, as of the note's latest digest day (issue 16)
                        text = entity_note_with_figures(conn, eid, text, rows[-1].day)
                if text is None:
                    removed += remove_generated(vault, ENTITIES_FOLDER, names[eid])
                else:
                    vault.write_note(ENTITIES_FOLDER, names[eid], text)
                    notes += 1
                categories.update(c for c in json_list(by_id[eid].categories) if isinstance(c, str))
            for cat in sorted(categories, key=moc_name):
                members = moc_members(catalogue, cat)
                stats = Q.timeline_stats(conn, build.beat, [m.id for m in members])
                text = moc_note(cat, build.beat, members, stats, names, noted)
                if text is None:
                    removed += remove_generated(vault, None, moc_name(cat))
                else:
                    vault.write_note(None, moc_name(cat), text)
                    notes += 1
    return {"path": str(path), "entity_notes": notes, "notes_removed": removed, "entities_touched": len(touched)}


def remove_generated(vault: Vault, folder: str | None, name: str) -> int:
    """Delete a note we generated that has nothing left to say (never a user's note)."""
    p = vault.path_for(folder, name)
    try:
        head = p.read_text(encoding="utf-8")[:2000]
    except OSError:
        return 0
    if f"generator: {GENERATOR}" in head:
        p.unlink()
        return 1
    return 0
