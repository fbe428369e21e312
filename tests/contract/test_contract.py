"""docs/warehouse.md is the contract: it must match the migrated schema on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses

from sqlalchemy import inspect

from newsroom.warehouse.views import CONSUMER_VIEWS
from tests.contract.doc import compare, family, load, parse


def test_the_document_matches_the_migrated_schema(warehouse):
    problems = compare(load(), inspect(warehouse))
    assert problems == [], "docs/warehouse.md and the schema disagree:\n" + "\n".join(problems)


def test_every_consumer_view_is_documented_and_typed_alike():
    doc = load()
    for name, table in CONSUMER_VIEWS.items():
        cols = doc[("view", name)]
        assert [c.name for c in cols] == [c.name for c in table.columns], name
        assert [c.type for c in cols] == [family(c.type) for c in table.columns], name
        assert all(c.meaning for c in cols)


def test_the_check_fails_when_a_documented_column_disappears_or_changes_type(warehouse):
    """The guard itself: doctor the document the way a schema change would break it."""
    doc = load()
    ins = inspect(warehouse)
    assert compare(doc, ins) == []
    gone = dict(doc)
    gone[("table", "articles")] = [*doc[("table", "articles")],
                                   dataclasses.replace(doc[("table", "articles")][0], name="headline_v1")]
    assert compare(gone, ins) == ["table articles: documented column headline_v1 does not exist"]
    retyped = dict(doc)
    retyped[("view", "v_articles")] = [dataclasses.replace(c, type="text") if c.name == "word_count" else c
                                       for c in doc[("view", "v_articles")]]
    assert any("v_articles.word_count: documented text, schema has integer" in p for p in compare(retyped, ins))
    nulls = dict(doc)
    nulls[("table", "digests")] = [dataclasses.replace(c, nullable=True) if c.name == "day" else c
                                   for c in doc[("table", "digests")]]
    assert compare(nulls, ins) == ["table digests.day: documented nullable=True, schema has nullable=False"]
    dropped = {k: v for k, v in doc.items() if k != ("table", "captures")}
    assert compare(dropped, ins) == ["tables not documented: captures"]


def test_parser_rejects_malformed_rows():
    import pytest

    with pytest.raises(ValueError, match="unknown type"):
        parse("### table `x`\n| column | type | nullable | meaning |\n|---|---|---|---|\n| a | varchar | no | m |\n")
    with pytest.raises(ValueError, match="not a"):
        parse("### table `x`\n| column | type | nullable | meaning |\n|---|---|---|---|\n| a | text | maybe | m |\n")
