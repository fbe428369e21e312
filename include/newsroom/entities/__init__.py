"""Tracked entities: find them in text (``matcher``), score them per article
(``tagging``) and keep the tags in the warehouse (``store``).

The entities file itself (models, loading, validation) is
:mod:`newsroom.config.entities`.
"""

from newsroom.config.entities import EntitiesFile, Entity, load_entities

from .matcher import Matcher, Mention, matcher_for
from .store import (
    aggregate_story_entities,
    cooccurring_entities,
    retag_range,
    sync_entities,
    tag_articles,
)
from .tagging import EntityTag, tag_document

__all__ = [
    "EntitiesFile",
    "Entity",
    "EntityTag",
    "Matcher",
    "Mention",
    "aggregate_story_entities",
    "cooccurring_entities",
    "load_entities",
    "matcher_for",
    "retag_range",
    "sync_entities",
    "tag_articles",
    "tag_document",
]
