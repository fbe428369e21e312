"""The entities file: the companies, labs, models, products, people and benchmarks
the newsroom tracks, with the aliases the matcher looks for.

    entities:
      - id: meta
        name: Meta
        type: company
        aliases: [Meta Platforms, Facebook Inc]   # matched case-insensitively
        case_sensitive: [Meta, META]              # matched only with this exact case
        exclude: [meta-analysis, meta-analyses]   # phrases where a match does not count
        context:                                  # optional cues for ambiguous names
          any_of: [AI, model, Google]             # one of these must be near the mention
          none_of: [horoscope, zodiac]            # none of these may be near it
          window: 300                             # characters either side
        parent: null                              # id of the owning entity
        related: [llama]
        categories: ["MOC - Major Companies"]
        description: ...
        links: {website: https://about.meta.com, wikidata: Q380}   # + github/huggingface/pypi: figures

The entity's ``name`` is matched too (case-insensitively, unless the exact
name is listed in ``case_sensitive``; set ``match_name: false`` to skip it).

:func:`load_entities` validates the file and raises :class:`ConfigError`
naming the file, the entry and the field of every problem: duplicate ids, an
alias claimed by two entities, an unknown ``parent`` or ``related`` id, a
parent cycle.
"""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ConfigError, from_validation_error, load_yaml

EntityType = Literal[
    "company",
    "lab",
    "model",
    "model-family",
    "product",
    "person",
    "organization",
    "benchmark",
    "project",
    "dataset",
    "event",
    "other",
]

ID_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"


class EntityLinks(BaseModel):
    """Where to read more; all optional."""

    model_config = ConfigDict(extra="forbid")

    website: str | None = None
    wikidata: str | None = Field(default=None, pattern=r"^Q[0-9]+$")
    wikipedia: str | None = None
    # Figure sources (issue 16, read by newsroom.metrics.links): one value or a list each.
    github: str | list[str] | None = None
    huggingface: str | list[str] | None = None
    pypi: str | list[str] | None = None
    x: str | None = None


class EntityContext(BaseModel):
    """Cues that decide whether an ambiguous mention counts ("Gemini" the model
    vs the star sign). Cues are matched like aliases (case-insensitive, whole
    words) within ``window`` characters either side of the mention."""

    model_config = ConfigDict(extra="forbid")

    any_of: list[str] = Field(default_factory=list, description="At least one must be near the mention.")
    none_of: list[str] = Field(default_factory=list, description="None may be near the mention.")
    applies_to: list[str] | None = Field(
        default=None,
        description="Spellings the cues gate (e.g. only bare 'Gemini', not 'Google Gemini'); default all.",
    )
    window: int = Field(default=300, ge=10, le=100_000)


class Entity(BaseModel):
    """One tracked entity."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=120, pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    type: EntityType
    aliases: list[str] = Field(default_factory=list, description="Matched case-insensitively.")
    case_sensitive: list[str] = Field(default_factory=list, description="Matched with this exact case only.")
    exclude: list[str] = Field(default_factory=list, description="Phrases in which a mention does not count.")
    context: EntityContext | None = None
    match_name: bool = True
    parent: str | None = Field(default=None, pattern=ID_PATTERN)
    related: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    description: str | None = None
    links: EntityLinks = Field(default_factory=EntityLinks)

    @field_validator("aliases", "case_sensitive", "exclude", "categories")
    @classmethod
    def _non_empty_strings(cls, v: list[str]) -> list[str]:
        out = []
        for s in v:
            s = str(s).strip()
            if not s:
                raise ValueError("empty string in list")
            out.append(s)
        return out

    def match_terms(self) -> list[tuple[str, bool]]:
        """Every (term, case_sensitive) pair the matcher looks for, name included."""
        terms: list[tuple[str, bool]] = []
        cs = set(self.case_sensitive)
        if self.match_name and self.name not in cs:
            terms.append((self.name, False))
        terms += [(a, False) for a in self.aliases]
        terms += [(a, True) for a in self.case_sensitive]
        seen: set[tuple[str, bool]] = set()
        uniq = []
        for t in terms:
            if t not in seen:
                seen.add(t)
                uniq.append(t)
        return uniq


class EntitiesFile(BaseModel):
    """The whole entities file."""

    model_config = ConfigDict(extra="forbid")

    version: int = 1
    entities: list[Entity] = Field(default_factory=list)

    @cached_property
    def by_id(self) -> dict[str, Entity]:
        return {e.id: e for e in self.entities}

    @cached_property
    def content_hash(self) -> str:
        """sha256 of the validated content (not the file bytes), so comments and
        formatting do not force a re-tag but any change to what is matched does."""
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def ancestors(self, entity_id: str) -> list[str]:
        """Parent, grandparent, … of an entity (nearest first)."""
        out: list[str] = []
        cur = self.by_id[entity_id].parent
        while cur is not None and cur not in out and cur in self.by_id:
            out.append(cur)
            cur = self.by_id[cur].parent
        return out


def _alias_key(term: str, case_sensitive: bool) -> str:
    """How two aliases collide: the matcher's own normal form (so "GPT-5" and
    "gpt 5" are the same alias)."""
    from newsroom.entities.normalize import normalize_term

    key = normalize_term(term)
    return key if case_sensitive else key.lower()


def _cross_checks(data: dict, model: EntitiesFile) -> list[str]:
    """Problems that involve more than one entry, labelled like pydantic's."""
    problems: list[str] = []

    def label(i: int, e: Entity) -> str:
        # Same shape as pydantic errors ("entities[3] 'Name' → field").
        return f"entities[{i}] {e.name!r}"

    first_index: dict[str, int] = {}
    for i, e in enumerate(model.entities):
        if e.id in first_index:
            problems.append(f"{label(i, e)} → id: duplicate id {e.id!r}, already used by entities[{first_index[e.id]}]")
        else:
            first_index[e.id] = i

    # Alias ownership: a folded alias belongs to one entity. A case-sensitive
    # alias only collides with another case-sensitive alias of the same case,
    # or with a case-insensitive alias that folds to it.
    insensitive: dict[str, tuple[int, Entity, str]] = {}
    sensitive: dict[str, tuple[int, Entity, str]] = {}
    for i, e in enumerate(model.entities):
        for term, cs in e.match_terms():
            field = "case_sensitive" if cs else ("aliases" if term in e.aliases else "name")
            key = _alias_key(term, cs)
            if not key.strip():
                problems.append(f"{label(i, e)} → {field}: {term!r} has no letters or digits to match")
                continue
            hits = []
            if cs:
                hits.append(sensitive.get(key))
                hits.append(insensitive.get(key.lower()))
            else:
                hits.append(insensitive.get(key))
                hits += [v for k, v in sensitive.items() if k.lower() == key]
            for other in hits:
                if other is not None and other[1].id != e.id:
                    problems.append(
                        f"{label(i, e)} → {field}: alias {term!r} is already claimed by "
                        f"entities[{other[0]}] {other[1].name!r} (id {other[1].id!r})"
                    )
            (sensitive if cs else insensitive).setdefault(key, (i, e, term))

    ids = set(first_index)
    for i, e in enumerate(model.entities):
        if e.parent is not None:
            if e.parent == e.id:
                problems.append(f"{label(i, e)} → parent: an entity cannot be its own parent")
            elif e.parent not in ids:
                problems.append(f"{label(i, e)} → parent: unknown entity id {e.parent!r}")
        for r in e.related:
            if r not in ids:
                problems.append(f"{label(i, e)} → related: unknown entity id {r!r}")
        if e.context is not None and e.context.applies_to:
            own = {t for t, _ in e.match_terms()}
            for t in e.context.applies_to:
                if t not in own:
                    problems.append(f"{label(i, e)} → context → applies_to: {t!r} is not a name or alias of this entity")
    # Parent cycles (A → B → A) would make ancestor crediting loop.
    by_id = {e.id: e for e in model.entities}
    for i, e in enumerate(model.entities):
        seen = {e.id}
        cur = e.parent
        while cur is not None and cur in by_id:
            if cur in seen:
                problems.append(f"{label(i, e)} → parent: parent chain loops back to {cur!r}")
                break
            seen.add(cur)
            cur = by_id[cur].parent
    return problems


def load_entities(path: Path | str) -> EntitiesFile:
    """Load and validate an entities file."""
    data = load_yaml(path)
    if isinstance(data, list):
        data = {"entities": data}
    if not isinstance(data, dict):
        raise ConfigError(path, ["(top level): must be a mapping with an 'entities' list"])
    try:
        model = EntitiesFile.model_validate(data)
    except ValidationError as err:
        raise from_validation_error(path, data, err) from None
    problems = _cross_checks(data, model)
    if problems:
        raise ConfigError(path, problems)
    return model
