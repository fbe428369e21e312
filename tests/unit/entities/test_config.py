"""The entities file: the shipped list loads, and broken files fail with errors
that name the file, the entry and the field."""

from pathlib import Path

import pytest

from newsroom.config.entities import load_entities
from newsroom.config.errors import ConfigError
from newsroom.settings import DEFAULTS_DIR

DEFAULT = DEFAULTS_DIR / "entities.yaml"


def write(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "entities.yaml"
    p.write_text(body, encoding="utf-8")
    return p


def test_default_list_is_big_and_covers_every_kind():
    f = load_entities(DEFAULT)
    assert len(f.entities) >= 150
    types = {e.type for e in f.entities}
    assert {"company", "lab", "model", "model-family", "product", "person", "benchmark"} <= types
    cats = {c for e in f.entities for c in e.categories}
    assert {"MOC - Major Companies", "MOC - Open Source Models", "MOC - AI Labs", "MOC - People", "MOC - Benchmarks"} <= cats
    assert f.by_id["muse-spark"].parent == "muse"
    assert f.ancestors("muse-spark") == ["muse", "meta-superintelligence-labs", "meta"]
    assert "Meta" in f.by_id["meta"].case_sensitive


def test_duplicate_id_names_entry_and_field(tmp_path):
    p = write(tmp_path, """
entities:
  - {id: acme, name: Acme, type: company}
  - {id: acme, name: Acme Two, type: company}
""")
    with pytest.raises(ConfigError) as exc:
        load_entities(p)
    msg = str(exc.value)
    assert str(p) in msg and "entities[1] 'Acme Two' → id: duplicate id 'acme'" in msg


def test_alias_claimed_by_two_entities(tmp_path):
    p = write(tmp_path, """
entities:
  - {id: gpt-5, name: GPT-5, type: model}
  - {id: other, name: Other, type: model, aliases: [gpt 5]}
""")
    with pytest.raises(ConfigError) as exc:
        load_entities(p)
    msg = str(exc.value)
    assert "entities[1] 'Other' → aliases: alias 'gpt 5' is already claimed by entities[0] 'GPT-5' (id 'gpt-5')" in msg


def test_case_sensitive_aliases_of_different_case_may_coexist(tmp_path):
    p = write(tmp_path, """
entities:
  - {id: a, name: Alpha, type: model, case_sensitive: [ABC]}
  - {id: b, name: Beta, type: model, case_sensitive: [abc]}
""")
    assert len(load_entities(p).entities) == 2
    p = write(tmp_path, """
entities:
  - {id: a, name: Alpha, type: model, case_sensitive: [ABC]}
  - {id: b, name: Beta, type: model, aliases: [abc]}
""")
    with pytest.raises(ConfigError, match="already claimed"):
        load_entities(p)


def test_unknown_parent_and_related(tmp_path):
    p = write(tmp_path, """
entities:
  - {id: child, name: Child, type: model, parent: nobody, related: [ghost]}
""")
    with pytest.raises(ConfigError) as exc:
        load_entities(p)
    msg = str(exc.value)
    assert "entities[0] 'Child' → parent: unknown entity id 'nobody'" in msg
    assert "entities[0] 'Child' → related: unknown entity id 'ghost'" in msg


def test_parent_cycle(tmp_path):
    p = write(tmp_path, """
entities:
  - {id: a, name: A1, type: model, parent: b}
  - {id: b, name: B1, type: model, parent: a}
""")
    with pytest.raises(ConfigError, match="loops back"):
        load_entities(p)


def test_field_errors_name_the_entry(tmp_path):
    p = write(tmp_path, """
entities:
  - {id: ok, name: Fine, type: company}
  - {id: bad, name: Bad, type: 'space/ship'}
  - {id: ctx, name: Ctx, type: model, context: {any_of: [x], applies_to: [Nope]}}
""")
    with pytest.raises(ConfigError) as exc:
        load_entities(p)
    assert "entities[1] 'Bad' → type" in str(exc.value)
    p = write(tmp_path, """
entities:
  - {id: ctx, name: Ctx, type: model, context: {any_of: [x], applies_to: [Nope]}}
""")
    with pytest.raises(ConfigError, match=r"'Ctx' → context → applies_to: 'Nope' is not a name or alias"):
        load_entities(p)


def test_yaml_syntax_error_has_line(tmp_path):
    p = write(tmp_path, "entities:\n  - {id: a, name: [unclosed\n")
    with pytest.raises(ConfigError, match="line"):
        load_entities(p)


def test_hash_ignores_formatting_but_not_content(tmp_path):
    a = load_entities(write(tmp_path, "entities:\n  - {id: a, name: Alpha, type: model}\n"))
    b = load_entities(write(tmp_path, "# comment\nentities:\n- id: a\n  name: Alpha\n  type: model\n"))
    c = load_entities(write(tmp_path, "entities:\n  - {id: a, name: Alpha, type: model, aliases: [Alf]}\n"))
    assert a.content_hash == b.content_hash != c.content_hash


def test_entity_types_are_an_open_set(tmp_path):
    f = load_entities(write(tmp_path, """
entities:
  - {id: colossus, name: Colossus, type: facility}
  - {id: acme, name: Acme, type: Company}
"""))
    assert [e.type for e in f.entities] == ["facility", "company"]  # known types keep their spelling
    for bad in ("''", "'space/ship'", "'" + "x" * 41 + "'", "[a, b]"):
        with pytest.raises(ConfigError, match=r"entities\[0\] 'Colossus' → type"):
            load_entities(write(tmp_path, f"entities:\n  - {{id: colossus, name: Colossus, type: {bad}}}\n"))


def test_a_case_sensitive_spelling_wins_over_aliases_and_name(tmp_path):
    f = load_entities(write(tmp_path, """
entities:
  - {id: meta, name: Meta, type: company, aliases: [Meta, meta, Meta Platforms], case_sensitive: [Meta, META]}
  - {id: grok, name: Grok, type: model, aliases: [grok, Grok 4], case_sensitive: [Grok]}
"""))
    assert f.by_id["meta"].match_terms() == [("Meta Platforms", False), ("Meta", True), ("META", True)]
    assert f.by_id["grok"].match_terms() == [("Grok 4", False), ("Grok", True)]


@pytest.mark.parametrize("body", ["", "# only a comment\n", "{}\n", "entities: []\n", "version: 1\n"])
def test_an_empty_entities_file_is_an_error(tmp_path, body):
    p = write(tmp_path, body)
    with pytest.raises(ConfigError) as exc:
        load_entities(p)
    assert str(p) in str(exc.value) and ("no entities" in str(exc.value) or "the file is empty" in str(exc.value))
