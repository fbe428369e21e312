"""Every DAG file imports cleanly, fast, without touching the network or DB, and
declares what operators rely on (tags, retries, docs, owner-facing params)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "newsroom_ingest" in dagbag.dags


def test_every_dag_file_is_known():
    """A new DAG file must be added to the conventions below (and to the docs)."""
    assert {p.stem for p in DAGS.glob("*.py")} == set(ALL_DAGS)


ALL_DAGS = ["newsroom_ingest", "newsroom_reprocess", "newsroom_digest", "newsroom_consumer_example",
            "newsroom_metrics", "newsroom_maintenance"]


@pytest.mark.parametrize("dag_id", ALL_DAGS)
def test_dag_conventions(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert "newsroom" in dag.tags
    assert dag.doc_md
    assert dag.max_active_runs >= 1
    for t in dag.tasks:
        assert t.retries >= 1, f"{dag_id}.{t.task_id} has no retries"


def test_maintenance_is_one_daily_task(dagbag):
    dag = dagbag.dags["newsroom_maintenance"]
    assert [t.task_id for t in dag.tasks] == ["apply_retention"]
    assert dag.schedule == "@daily" and dag.timetable.expression == "0 0 * * *"
    assert dag.catchup is False and dag.max_active_runs == 1


def test_ingest_maps_over_sources(dagbag):
    dag = dagbag.dags["newsroom_ingest"]
    mapped = {t.task_id for t in dag.tasks if getattr(t, "is_mapped", False)}
    assert {"ingest_feed", "ingest_subreddit"} <= mapped
    assert dag.get_task("ingest_subreddit").pool == "reddit_api"
    assert dag.get_task("summarize").trigger_rule == "all_done"
    assert "force" in dag.params
    # Page fetches are rate limited across runs by a pool (feed tasks fetch their entries' pages).
    assert dag.get_task("ingest_feed").pool == "page_fetch"


def test_every_pool_a_task_uses_is_defined_once_for_setup_compose_and_tests(dagbag):
    """setup.sh, the compose airflow-init and the test clusters import plugins/pools.json; a task
    in a pool that does not exist would never be scheduled."""
    import json

    pools = json.loads((DAGS.parent / "plugins" / "pools.json").read_text())
    used = {t.pool for dag in dagbag.dags.values() for t in dag.tasks} - {"default_pool"}
    assert used == set(pools), (used, set(pools))  # no task in a missing pool, no unused pool
    assert pools["page_fetch"]["slots"] >= 1
    setup = (DAGS.parent / "scripts" / "setup.sh").read_text()
    compose = (DAGS.parent / "docker-compose.yaml").read_text()
    assert 'airflow pools import "$PROJECT_DIR/plugins/pools.json"' in setup
    assert "airflow pools import /opt/airflow/plugins/pools.json" in compose
    assert "./plugins:/opt/airflow/plugins" in compose


def test_assets_are_defined_once_and_shared_by_producers_and_consumers(dagbag):
    """No DAG file defines an Asset; producers and consumers use the objects of newsroom_assets."""
    import newsroom_assets

    for path in sorted(DAGS.glob("*.py")):
        assert "Asset(" not in path.read_text(), f"{path.name} defines an asset: use newsroom_assets"
    outlets = {(d.dag_id, t.task_id): [o for o in t.outlets] for d in dagbag.dags.values() for t in d.tasks
               if t.outlets}
    assert outlets == {
        ("newsroom_ingest", "summarize"): [newsroom_assets.ARTICLES],
        ("newsroom_reprocess", "reprocess"): [newsroom_assets.ARTICLES],
        ("newsroom_digest", "build_digest"): [newsroom_assets.DIGESTS],
        ("newsroom_metrics", "summarize"): [newsroom_assets.ENTITY_METRICS],
    }
    consumer = dagbag.dags["newsroom_consumer_example"]
    assert list(consumer.timetable.asset_condition.objects) == [newsroom_assets.DIGESTS]


def test_dag_files_are_thin_and_parse_fast():
    """A DAG file must not import the package, the DB driver or trafilatura at top level."""
    for path in sorted(DAGS.glob("*.py")):
        code = (
            "import sys, time; t=time.perf_counter(); import runpy; "
            f"runpy.run_path({str(path)!r}); "
            "heavy=[m for m in ('newsroom.pipeline','trafilatura','psycopg','feedparser','newsroom.warehouse') if m in sys.modules]; "
            "print(repr((time.perf_counter()-t, heavy)))"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        elapsed, heavy = eval(out.stdout.strip().splitlines()[-1])
        assert heavy == [], f"{path.name} imports {heavy} at parse time"
        # Airflow's own dagbag_import_timeout is 30 s; ours must be far below (airflow import included).
        assert elapsed < 15, f"{path.name} took {elapsed:.1f}s to parse"


def test_each_dag_file_parses_in_under_half_a_second():
    """What the dag-processor pays per file on every parse: the file itself, with Airflow's
    SDK already imported (the processor has it). Best of three runs on a shared machine.
    The ingest DAG's digest trigger must not import the ORM-side trigger_dag module."""
    for path in sorted(DAGS.glob("*.py")):
        code = (
            "import sys, time, runpy; import airflow.sdk; t=time.perf_counter(); "
            f"runpy.run_path({str(path)!r}); "
            "heavy=[m for m in ('airflow.api.common.trigger_dag', 'airflow.models.dagrun') if m in sys.modules]; "
            "print(repr((time.perf_counter()-t, heavy)))"
        )
        best, heavy = None, None
        for _ in range(3):
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
            elapsed, heavy = eval(out.stdout.strip().splitlines()[-1])
            best = elapsed if best is None else min(best, elapsed)
        assert heavy == [], f"{path.name} imports {heavy} at parse time"
        assert best < 0.5, f"{path.name} took {best:.2f}s to parse (best of 3)"


def test_digest_runs_on_an_interval_timetable_that_covers_one_local_day(dagbag):
    """The scheduled run whose interval starts on day D at the digest hour digests day D:
    its window is [D 00:00, D+1 00:00) local, even across a DST change."""
    from datetime import date, datetime, timezone
    from zoneinfo import ZoneInfo

    from airflow.sdk import CronDataIntervalTimetable

    from newsroom.config import load_sources
    from newsroom.digest.window import day_for_interval, day_window
    from newsroom.settings import Settings

    dag = dagbag.dags["newsroom_digest"]
    src = load_sources(Settings().sources)
    assert Settings().digest_tz == src.timezone  # the documented defaults agree with the default sources file
    hour = int(Settings().digest_schedule.split()[1])
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import TimeRestriction

    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    tt = coerce_to_core_timetable(dag.timetable)  # what the scheduler runs
    tz = ZoneInfo(src.timezone)
    # 2026-03-29 is the spring-forward day in Europe/London: a 23-hour local day.
    for d in [date(2026, 4, 9), date(2026, 3, 29), date(2026, 10, 25)]:
        start = datetime(d.year, d.month, d.day, hour, tzinfo=tz)
        info = tt.next_dagrun_info(last_automated_data_interval=None,
                                   restriction=TimeRestriction(earliest=start.astimezone(timezone.utc),
                                                               latest=None, catchup=True))
        iv = info.data_interval
        assert iv.start == start.astimezone(timezone.utc)
        assert iv.end.astimezone(tz).date() == date.fromordinal(d.toordinal() + 1)
        assert day_for_interval(iv.start, iv.end, tz) == d
        lo, hi = day_window(d, tz)
        assert lo.astimezone(tz).hour == 0 and hi.astimezone(tz).hour == 0
        assert (hi - lo).total_seconds() / 3600 == {date(2026, 3, 29): 23, date(2026, 10, 25): 25}.get(d, 24)


def test_reprocess_is_its_own_manual_dag_with_a_form(dagbag):
    """The trigger dialog's form: a date range and what to redo; one digest run per day is
    triggered; one reprocessing at a time."""
    dag = dagbag.dags["newsroom_reprocess"]
    assert dag.schedule is None  # manual only: no scheduled run, nothing to backfill
    assert dag.max_active_runs == 1 and dag.catchup is False
    p = dag.params
    for name in ("since", "until"):
        assert p.get_param(name).schema["format"] == "date" and p[name] is None
    for name in ("re_extract", "re_dedup", "re_tag", "regenerate_digests"):
        assert p.get_param(name).schema["type"] == "boolean" and p[name] is True
    trigger = dag.get_task("regenerate_digests")
    assert trigger.is_mapped and "newsroom_digest" in (trigger.doc or trigger.python_callable.__doc__ or "")
    assert dag.get_task("reprocess").max_active_tis_per_dag == 1
    assert "newsroom_reprocess" in dag.doc_md and "newsroom_ingest" in dag.doc_md


def test_ingest_has_no_reprocess_mode_and_refuses_backfills(dagbag):
    """newsroom_ingest only ingests: no mode switch in its form, no reprocess tasks, and a
    backfill run fails at its first task with a message naming newsroom_reprocess."""
    import runpy
    from types import SimpleNamespace

    from airflow.sdk.exceptions import AirflowFailException

    dag = dagbag.dags["newsroom_ingest"]
    assert set(dag.params) == {"force"}
    assert {t.task_id for t in dag.tasks} == {"plan_sources", "feed_batches", "subreddit_names", "ingest_feed",
                                              "ingest_subreddit", "enrich", "summarize"}
    assert "newsroom_reprocess" in dag.doc_md
    mod = runpy.run_path(str(DAGS / "newsroom_ingest.py"))
    refuse = mod["_refuse_backfill"]
    for run_type in ("scheduled", "manual", "asset_triggered"):
        refuse({"dag_run": SimpleNamespace(run_type=run_type)})
    with pytest.raises(AirflowFailException, match="newsroom_reprocess") as exc:
        refuse({"dag_run": SimpleNamespace(run_type="backfill")})
    assert "does not backfill" in str(exc.value)
    # The tasks a backfill run would still reach (all_done) refuse too, so the run is red.
    for task_id in ("plan_sources", "enrich", "summarize"):
        assert "_refuse_backfill(" in __import__("inspect").getsource(dag.get_task(task_id).python_callable)
    # A non-empty data interval: a run's summary says which hour it stands for.
    from airflow.serialization.encoders import coerce_to_core_timetable

    tt = coerce_to_core_timetable(dag.timetable)
    from datetime import datetime, timezone

    iv = tt.infer_manual_data_interval(run_after=datetime(2026, 4, 9, 11, tzinfo=timezone.utc))
    assert (iv.start, iv.end) == (datetime(2026, 4, 9, 10, tzinfo=timezone.utc),
                                  datetime(2026, 4, 9, 11, tzinfo=timezone.utc))


def _parse_digest_dag(env: dict) -> dict:
    """Parse dags/newsroom_digest.py in a fresh process with ``env`` (as the dag-processor
    would); returns its import errors and, when it imported, its timetable's cron and zone."""
    import json
    import os

    code = (
        "import json; from airflow.dag_processing.dagbag import DagBag; "
        f"b = DagBag(dag_folder={str(DAGS / 'newsroom_digest.py')!r}); "
        "d = b.dags.get('newsroom_digest'); "
        "print(json.dumps({'errors': list(b.import_errors.values()), "
        "'cron': d and d.timetable.expression, 'tz': d and str(d.timetable.timezone)}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, **env})
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_digest_schedule_comes_from_settings():
    got = _parse_digest_dag({"NEWSROOM_DIGEST_SCHEDULE": "30 7 * * *", "NEWSROOM_DIGEST_TZ": "America/New_York"})
    assert got["errors"] == []
    assert (got["cron"], got["tz"]) == ("30 7 * * *", "America/New_York")
    defaults = _parse_digest_dag({})
    assert (defaults["cron"], defaults["tz"]) == ("0 6 * * *", "Europe/London")


@pytest.mark.parametrize("env, words", [
    ({"NEWSROOM_DIGEST_SCHEDULE": "0 */2 * * *"}, "NEWSROOM_DIGEST_SCHEDULE must be a daily cron"),
    ({"NEWSROOM_DIGEST_SCHEDULE": "0 6 * * 1"}, "NEWSROOM_DIGEST_SCHEDULE must be a daily cron"),
    ({"NEWSROOM_DIGEST_SCHEDULE": "six o'clock"}, "NEWSROOM_DIGEST_SCHEDULE must be a daily cron"),
    ({"NEWSROOM_DIGEST_SCHEDULE": "0 24 * * *"}, "NEWSROOM_DIGEST_SCHEDULE must be a daily cron"),
    ({"NEWSROOM_DIGEST_TZ": "Mars/Olympus"}, "NEWSROOM_DIGEST_TZ must be an IANA timezone"),
    ({"NEWSROOM_DIGEST_TZ": ""}, "NEWSROOM_DIGEST_TZ must be an IANA timezone"),
])
def test_an_invalid_digest_schedule_is_an_import_error_not_a_default(env, words):
    got = _parse_digest_dag(env)
    assert got["cron"] is None, "the DAG must not load with a default schedule"
    assert len(got["errors"]) == 1 and words in got["errors"][0]


def test_digest_refuses_a_schedule_zone_other_than_the_sources_timezone():
    import runpy

    from airflow.sdk.exceptions import AirflowFailException

    check = runpy.run_path(str(DAGS / "newsroom_digest.py"))["_check_timezone"]
    check("Europe/London", "Europe/London")
    with pytest.raises(AirflowFailException, match="NEWSROOM_DIGEST_TZ is 'UTC' but the sources file"):
        check("UTC", "Europe/London")


DEPRECATIONS = ("airflow.exceptions.RemovedInAirflow4Warning", "airflow.sdk.exceptions.RemovedInAirflow4Warning",
                "airflow.exceptions.AirflowProviderDeprecationWarning",
                "airflow.utils.deprecation_tools.DeprecatedImportWarning")


@pytest.mark.parametrize("path", sorted(DAGS.glob("*.py")) + sorted((DAGS.parent / "plugins").glob("*.py")),
                         ids=lambda p: p.name)
def test_dag_files_and_plugins_import_without_airflow_deprecation_warnings(path):
    """Each DAG file and plugin module imports (and builds its DAG) in a fresh process with
    Airflow's deprecation categories, and plain DeprecationWarning, turned into errors."""
    flags = ["-W", "error::DeprecationWarning"]
    for category in DEPRECATIONS:
        flags += ["-W", f"error::{category}"]
    code = f"import runpy; runpy.run_path({str(path)!r}); print('ok')"
    out = subprocess.run([sys.executable, *flags, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-3000:]


def test_digest_backfill_settings(dagbag):
    dag = dagbag.dags["newsroom_digest"]
    assert dag.catchup is False and dag.max_active_runs == 1
    build = dag.get_task("build_digest")
    assert build.max_active_tis_per_dag == 1
    assert [o.name for o in build.outlets] == ["newsroom_digests"]


def test_consumer_example_runs_on_the_digests_asset_and_starts_paused(dagbag):
    dag = dagbag.dags["newsroom_consumer_example"]
    assert dag.is_paused_upon_creation is True
    assets = [a.name for a in dag.timetable.asset_condition.objects]
    assert assets == ["newsroom_digests"]


def test_retries_refetch_and_failed_subreddits_fail_their_task():
    import runpy

    from airflow.sdk.exceptions import AirflowFailException

    from types import SimpleNamespace

    mod = runpy.run_path(str(DAGS / "newsroom_ingest.py"))
    ignore = mod["_ignore_backoff"]
    scheduled, manual = ({"dag_run": SimpleNamespace(run_type=t)} for t in ("scheduled", "manual"))
    assert ignore(scheduled, 1) is False and ignore(manual, 1) is True
    assert ignore(scheduled, 2) is True  # an Airflow retry must not be swallowed by the source's backoff
    check = mod["_raise_if_subreddit_failed"]
    check("LocalLLaMA", {"status": "ok"})
    check("LocalLLaMA", {"status": "skipped"})
    with pytest.raises(AirflowFailException, match="forbidden_private"):
        check("secret", {"status": "failed", "reason": "forbidden_private"})
    with pytest.raises(RuntimeError, match="http_503") as exc:
        check("LocalLLaMA", {"status": "failed", "reason": "http_503"})
    assert not isinstance(exc.value, AirflowFailException)


def test_task_failures_say_whether_a_retry_can_help():
    """Config errors and an unknown schema fail without retries; a dead warehouse or a broken
    pool fail with one line and are retried; a source's Retry-After longer than the retry
    delay is not overridden by an Airflow retry."""
    import runpy
    from datetime import datetime, timedelta, timezone
    from types import SimpleNamespace

    from airflow.sdk.exceptions import AirflowFailException

    from newsroom.config import ConfigError
    from newsroom.pipeline.ingest import SourceFailed
    from newsroom.pipeline.outcome import ExtractionUnavailable
    from newsroom.warehouse import SchemaNotAtHead, WarehouseUnavailable

    mod = runpy.run_path(str(DAGS / "newsroom_ingest.py"))
    # Both DAGs that run pipeline stages share the one classifier (plugins/newsroom_failures.py).
    from newsroom_failures import honest_failures as honest

    assert mod["honest_failures"] is honest
    assert runpy.run_path(str(DAGS / "newsroom_reprocess.py"))["honest_failures"] is honest
    for exc in (ConfigError("sources.yaml", ["feeds[0] 'x' → url: must be an http:// or https:// URL"]),
                SchemaNotAtHead("warehouse is at revision ['0099_future']")):
        with pytest.raises(AirflowFailException, match=type(exc).__name__):
            with honest():
                raise exc
    for exc in (WarehouseUnavailable("warehouse unreachable at postgresql://h/db: connection refused"),
                ExtractionUnavailable("extraction pool broken")):
        with pytest.raises(RuntimeError) as info:
            with honest():
                raise exc
        assert not isinstance(info.value, AirflowFailException) and "\n" not in str(info.value)
        assert info.value.__cause__ is None and info.value.__suppress_context__
    with pytest.raises(KeyError):  # anything else is left as it is
        with honest():
            raise KeyError("x")

    failed = mod["_source_failed"]
    ti = SimpleNamespace(task=SimpleNamespace(retry_delay=timedelta(minutes=2)))
    due = datetime(2026, 4, 8, 11, tzinfo=timezone.utc)
    limited = failed(SourceFailed("f", "http_429", retry_after_s=3600, next_due_at=due), ti)
    assert isinstance(limited, AirflowFailException) and "Retry-After 3600" in str(limited)
    assert due.isoformat() in str(limited)
    soon = SourceFailed("f", "http_429", retry_after_s=30)
    assert failed(soon, ti) is soon  # shorter than the retry delay: the retry honours it
    plain = SourceFailed("f", "http_503")
    assert failed(plain, ti) is plain
    assert isinstance(failed(SourceFailed("f", "http_404"), ti), AirflowFailException)


def test_metrics_has_a_task_and_a_pool_per_service(dagbag):
    dag = dagbag.dags["newsroom_metrics"]
    pools = {t.task_id: t.pool for t in dag.tasks if t.task_id.startswith("collect_")}
    assert pools == {"collect_github": "github_api", "collect_huggingface": "huggingface_api",
                     "collect_pypistats": "pypistats_api"}
    assert [o.name for o in dag.get_task("summarize").outlets] == ["newsroom_entity_metrics"]
