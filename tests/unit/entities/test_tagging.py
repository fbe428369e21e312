"""Salience and parent credits of one document."""

from newsroom.config.entities import EntitiesFile
from newsroom.entities.matcher import Matcher
from newsroom.entities.tagging import tag_document

F = EntitiesFile.model_validate({"entities": [
    {"id": "acme", "name": "Acme", "type": "company"},
    {"id": "rocket", "name": "Rocket", "type": "model-family", "parent": "acme"},
    {"id": "rocket-2", "name": "Rocket 2", "type": "model", "parent": "rocket"},
    {"id": "widget", "name": "Widget", "type": "product"},
]})


def test_title_early_and_frequent_mentions_are_salient():
    body = "Rocket 2 is out. " + "Filler text. " * 50 + "Widget is mentioned late. Rocket 2 again."
    tags = {t.entity_id: t for t in tag_document(Matcher(F), "Rocket 2 launches", body)}
    r, w = tags["rocket-2"], tags["widget"]
    assert r.mentions == 3 and r.in_title and r.first_position == 0
    assert not w.in_title and w.first_position == body.index("Widget")
    assert r.salience > w.salience
    assert 0 < w.salience < 0.5 < r.salience <= 1


def test_parents_credited_at_lower_salience_unless_mentioned():
    tags = {t.entity_id: t for t in tag_document(Matcher(F), "Rocket 2 launches", "Rocket 2 is fast.")}
    assert tags["rocket"].implied_by == "rocket-2" and tags["rocket"].mentions == 0
    assert tags["acme"].implied_by == "rocket-2"
    assert tags["rocket-2"].salience > tags["rocket"].salience > tags["acme"].salience
    tags = {t.entity_id: t for t in tag_document(Matcher(F), "Acme ships Rocket 2", "Acme said so.")}
    assert tags["acme"].implied_by is None and tags["acme"].mentions == 2
    no_credit = tag_document(Matcher(F), "Rocket 2", "", credit_parents=False)
    assert [t.entity_id for t in no_credit] == ["rocket-2"]


def test_nothing_found():
    assert tag_document(Matcher(F), None, "nothing here") == []
