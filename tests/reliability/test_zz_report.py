"""Runs last in the suite (file order): ``docs/reliability.md`` must be what this run
recorded. On a full, green run the session hook has just rewritten the file if needed,
so a failure here means the committed document was stale — commit the regenerated one."""

from __future__ import annotations

import difflib

import pytest

from tests.reliability import conftest as suite
from tests.reliability.report import AREAS, DOC


def test_every_area_of_the_issue_has_rows():
    complete, why = suite.suite_status()
    if not complete:
        pytest.skip(f"document not checked: {why}")
    rows = suite.collector().rows.values()
    assert {r.area for r in rows} == set(AREAS)
    assert all(r.lost == 0 for r in rows), [r for r in rows if r.lost]


def test_reliability_doc_is_current():
    complete, why = suite.suite_status()
    if not complete:
        pytest.skip(f"document not checked: {why}")
    expected = suite.collector().render()
    committed = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    if committed != expected:
        diff = "\n".join(difflib.unified_diff(committed.splitlines(), expected.splitlines(), "committed",
                                              "this run", lineterm="", n=1))
        pytest.fail(f"{DOC} is out of date (it is regenerated at the end of this session; commit it):\n{diff[:4000]}")
