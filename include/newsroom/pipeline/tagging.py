"""Entity tagging as the DAGs call it: settings in, counts out.

    tag_new_articles()                 # after ingest/extraction: every article not yet
                                       # tagged under the current entities file
    retag_articles(since, until)       # backfill / after editing the entities file: from
                                       # stored text, no network
    refresh_story_entities(story_ids)  # after the stories stage regroups articles

The work itself lives in :mod:`newsroom.entities`; these functions only load
the entities file named by ``NEWSROOM_ENTITIES`` and open the warehouse.
"""

from __future__ import annotations

from datetime import datetime

from newsroom.config.entities import EntitiesFile, load_entities
from newsroom.entities import aggregate_story_entities, retag_range, tag_articles
from newsroom.settings import Settings, get_settings
from newsroom.warehouse import open_warehouse


def _load(settings: Settings | None) -> tuple[Settings, EntitiesFile]:
    settings = settings or get_settings()
    return settings, load_entities(settings.entities)


def tag_new_articles(settings: Settings | None = None, article_ids: list[int] | None = None) -> dict:
    """Tag the given articles, or every article not tagged under the current file."""
    settings, entities = _load(settings)
    engine = open_warehouse(settings.resolved_warehouse_url)
    return tag_articles(engine, article_ids, entities)


def retag_articles(since: datetime, until: datetime, settings: Settings | None = None) -> dict:
    """Re-tag every stored article of ``[since, until)`` with the current file."""
    settings, entities = _load(settings)
    engine = open_warehouse(settings.resolved_warehouse_url)
    return retag_range(engine, since, until, entities)


def refresh_story_entities(story_ids: list[int] | None = None, settings: Settings | None = None) -> dict:
    """Rebuild ``story_entities`` for the given stories (None: all)."""
    settings = settings or get_settings()
    engine = open_warehouse(settings.resolved_warehouse_url)
    return aggregate_story_entities(engine, story_ids)
