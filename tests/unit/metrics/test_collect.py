"""The figures stage against local GitHub / Hugging Face / pypistats servers (tests/unit/metrics/
fake_apis.py): two days, a renamed repository, no releases, an unknown repository, a gated and a
private model, a 304 on day two, spent and secondary rate limits, a huge body — on SQLite and
PostgreSQL, through the real fetcher and the real warehouse."""

from __future__ import annotations

import time
from datetime import date

import pytest
import yaml
from sqlalchemy import func, select

from newsroom.metrics.records import ApiEndpoint
from newsroom.pipeline.metrics import QuotaStopped, collect_service
from newsroom.settings import Settings
from newsroom.warehouse import migrate_warehouse, migrate_warehouse
from newsroom.warehouse.metrics import latest_figures
from newsroom.warehouse.schema.metrics import EntityMetric
from tests.unit.metrics.fake_apis import FakeAPIs

D1, D2 = date(2026, 4, 8), date(2026, 4, 9)
ENTITIES = {"version": 1, "entities": [
    {"id": "metagpt", "name": "MetaGPT", "type": "project", "links": {"github": "https://github.com/geekan/MetaGPT"}},
    {"id": "metaflow", "name": "Metaflow", "type": "project",
     "links": {"github": "https://github.com/Netflix/metaflow", "pypi": ["metaflow", "hugepkg", "No_Such.Pkg"]}},
    {"id": "acme", "name": "Acme", "type": "company",
     "links": {"github": ["acme/norelease", "https://github.com/acme/ghost"],
               "huggingface": ["https://huggingface.co/acme/private-model", "meta-llama/Llama-Guard-Gated"]}},
    {"id": "llama", "name": "Llama", "type": "model-family", "links": {"huggingface": "https://huggingface.co/meta-llama"}},
]}


@pytest.fixture
def apis():
    with FakeAPIs() as a:
        yield a


@pytest.fixture
def settings(tmp_path, warehouse_url):
    path = tmp_path / "entities.yaml"
    path.write_text(yaml.safe_dump(ENTITIES))
    migrate_warehouse(warehouse_url)  # setup's job: tasks never migrate
    return Settings(entities=path, warehouse_url=warehouse_url, output_dir=tmp_path / "vault",
                    allow_private_networks=True)


def _run(service, day, settings, apis, **kw):
    return collect_service(service, day, settings=settings, endpoint=ApiEndpoint(service, apis.base_url, kw.pop(
        "token", "test-token" if service == "github" else None)), run_id=f"run-{day}", **kw)


def _rows(settings, day=None):
    engine = migrate_warehouse(settings.resolved_warehouse_url)
    t = EntityMetric.__table__
    q = select(t)
    if day:
        q = q.where(t.c.day == day)
    with engine.connect() as c:
        return {(r.entity_id, r.subject, r.metric, r.day): r for r in c.execute(q)}


def test_two_days_of_figures_with_every_kind_of_answer(apis, settings):
    for service in ("github", "huggingface", "pypistats"):
        _run(service, D1, settings, apis)
    day1 = _rows(settings, D1)
    # renamed: the redirect is followed once, the subject is the repository's new name
    stars = day1[("metagpt", "FoundationAgents/MetaGPT", "stars", D1)]
    assert (stars.status, stars.value, stars.reason) == ("ok", 65024, "moved from geekan/MetaGPT")
    assert day1[("metaflow", "Netflix/metaflow", "latest_release", D1)].value_text == "2.12.0"
    assert day1[("acme", "acme/norelease", "latest_release", D1)].status == "absent"
    ghost = day1[("acme", "acme/ghost", "stars", D1)]
    assert ghost.status == "failed" and ghost.reason.startswith("not_found: no repository acme/ghost")
    gated = day1[("acme", "meta-llama/Llama-Guard-Gated", "gated", D1)]
    assert (gated.status, gated.value_text) == ("ok", "manual")
    private = day1[("acme", "acme/private-model", "downloads_30d", D1)]
    assert private.status == "failed" and private.reason.startswith("unauthorized:") and "no token" in private.reason
    # the organisation's models, most downloaded first, over two pages of the Link header
    llama = {k[1]: r.value for k, r in day1.items() if k[0] == "llama" and k[2] == "downloads_30d"}
    assert llama == {"meta-llama/Llama-3.1-8B-Instruct": 8712721, "meta-llama/Llama-3.2-3B-Instruct": 5884443,
                     "meta-llama/Llama-3.2-1B-Instruct": 4193034, "meta-llama/Llama-Guard-Gated": 1000}
    assert day1[("metaflow", "metaflow", "downloads_last_month", D1)].value == 300_000
    huge = day1[("metaflow", "hugepkg", "downloads_last_day", D1)]
    assert huge.status == "failed" and huge.reason.startswith("too_large")
    unknown = day1[("metaflow", "no-such-pkg", "downloads_last_week", D1)]  # the name normalised
    assert unknown.status == "failed" and "not_found" in unknown.reason

    # a second run of the same day asks nothing for what succeeded and adds nothing
    before = len(_rows(settings))
    hits = dict(apis.hits)
    again = _run("github", D1, settings, apis)
    assert len(_rows(settings)) == before
    assert again["skipped_done"] == 3 and apis.hits["github"] - hits["github"] == 1  # only the unknown repo, again

    # day two: MetaGPT answers 304 (no quota), metaflow changed
    apis.day = 2
    used = apis.used
    for service in ("github", "huggingface", "pypistats"):
        _run(service, D2, settings, apis)
    day2 = _rows(settings, D2)
    assert day2[("metagpt", "FoundationAgents/MetaGPT", "stars", D2)].status == "unchanged"
    assert day2[("metagpt", "FoundationAgents/MetaGPT", "stars", D2)].value == 65024
    assert day2[("metaflow", "Netflix/metaflow", "stars", D2)].value == 9990
    assert apis.github_304 >= 3  # MetaGPT's repository and release, metaflow's release
    assert apis.used - used == 3  # metaflow and norelease changed, ghost 404; "no releases" is remembered
    every = _rows(settings)
    for key, r in every.items():
        if r.status in ("ok", "unchanged") and key[3] == D1:
            assert (key[0], key[1], key[2], D2) in every, f"{key} not stored on day two"

    figs = latest_figures(migrate_warehouse(settings.resolved_warehouse_url), ["metaflow", "metagpt"], as_of=D2)
    mf = {(r["subject"], r["metric"]): r for r in figs["metaflow"]}
    assert mf[("Netflix/metaflow", "stars")]["value"] == 9990
    assert mf[("Netflix/metaflow", "stars")]["change_1d"] == 55 and mf[("Netflix/metaflow", "stars")]["is_latest"]
    assert mf[("metaflow", "downloads_last_month")]["change_1d"] == 1000
    assert {(r["subject"], r["metric"]): r["change_1d"] for r in figs["metagpt"]}[
        ("FoundationAgents/MetaGPT", "stars")] == 0
    # as of day one, day two's figures are not visible (backfilled digests say what was known then)
    old = latest_figures(migrate_warehouse(settings.resolved_warehouse_url), ["metaflow"], as_of=D1)
    assert {r["day"] for r in old["metaflow"]} == {D1}


def test_the_renamed_repository_is_asked_at_its_new_address_the_next_day(apis, settings):
    _run("github", D1, settings, apis)
    apis.server.reset_counts()
    _run("github", D2, settings, apis)
    paths = [p for _, p, _ in apis.server.requests]
    assert not any(p.startswith("/repos/geekan/") for p in paths), paths
    assert "/repositories/660551251" in paths


def test_a_spent_quota_is_waited_for_when_it_comes_back_soon(apis, settings):
    apis.reset_in = 1
    apis.throttle = [(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) + 2)})]
    started = time.monotonic()
    counts = _run("github", D1, settings, apis)
    assert time.monotonic() - started >= 0.9  # it waited for the reset instead of retrying at once
    assert counts["status_ok"] > 0
    assert _rows(settings, D1)[("metagpt", "FoundationAgents/MetaGPT", "stars", D1)].value == 65024


def test_a_secondary_limit_is_backed_off_as_retry_after_says(apis, settings):
    apis.throttle = [(429, {"retry-after": "1"})]
    started = time.monotonic()
    _run("github", D1, settings, apis)
    assert time.monotonic() - started >= 0.9
    assert _rows(settings, D1)[("metagpt", "FoundationAgents/MetaGPT", "stars", D1)].status == "ok"


def test_a_quota_spent_for_an_hour_stops_with_the_reason_and_never_hammers(apis, settings):
    apis.quota = 0  # every request refused with remaining 0, reset in an hour
    with pytest.raises(QuotaStopped, match="rate_limited"):
        _run("github", D1, settings, apis)
    assert apis.hits["github"] == 1  # one refusal, then nothing more is sent
    rows = _rows(settings, D1)
    assert rows and all(r.status == "failed" and r.reason.startswith("rate_limited") and "until" in r.reason
                        for r in rows.values())
    assert {k[0] for k in rows} == {"metagpt", "metaflow", "acme"}  # every link recorded, none lost
    # the next run (quota back) fetches them and replaces the failures in place
    apis.quota = 5000
    _run("github", D1, settings, apis)
    after = _rows(settings, D1)
    assert set(after) >= {k for k in rows if k[1] != "geekan/MetaGPT"}
    assert after[("metagpt", "FoundationAgents/MetaGPT", "stars", D1)].status == "ok"
    # the failure recorded under the old name is replaced by the figures under the new one
    assert not [k for k in after if k[1] == "geekan/MetaGPT"]
    assert {r.status for k, r in after.items() if k[0] == "metagpt"} <= {"ok", "absent"}


def test_rows_are_one_per_entity_subject_metric_day(apis, settings):
    for _ in range(2):
        _run("pypistats", D1, settings, apis)
    engine = migrate_warehouse(settings.resolved_warehouse_url)
    t = EntityMetric.__table__
    with engine.connect() as c:
        dupes = c.execute(select(t.c.entity_id, t.c.subject, t.c.metric, t.c.day, func.count())
                          .group_by(t.c.entity_id, t.c.subject, t.c.metric, t.c.day)
                          .having(func.count() > 1)).all()
    assert dupes == []


def test_every_request_is_logged_like_the_others(apis, settings):
    from newsroom.warehouse.schema import FetchLog

    _run("pypistats", D1, settings, apis)
    engine = migrate_warehouse(settings.resolved_warehouse_url)
    with engine.connect() as c:
        logged = c.execute(select(FetchLog.kind, FetchLog.status, FetchLog.error, FetchLog.run_id)).all()
    assert len(logged) == apis.hits["pypistats"] == 3
    assert {(k, r) for k, _, _, r in logged} == {("pypistats", f"run-{D1}")}
    assert sorted(str(s) + str(e) for _, s, e, _ in logged) == ["200None", "200too_large", "404http_404"]
