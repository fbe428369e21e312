"""On a failing test of this folder, attach the tail of every service log to the report."""

from __future__ import annotations

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed:
        return
    run = getattr(item, "funcargs", {}).get("celery_run")
    cluster = getattr(run, "cluster", None)
    if cluster is not None:
        try:
            rep.sections.append(("celery cluster logs (tails)", cluster.logs()))
        except Exception as exc:  # a report must never fail because a log is gone
            rep.sections.append(("celery cluster logs", f"could not read logs: {exc!r}"))
