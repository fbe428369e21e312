"""The figures stage as the ``newsroom_metrics`` DAG calls it: one service, one day.

    services = services_with_sources(settings)                       # ["github", "pypistats"]
    counts = collect_service("github", day, settings=settings, endpoint=ApiEndpoint(...), run_id=...)

Idempotent per day: observations are upserted on (entity, subject, metric, day), and a
link whose rows of the day hold no failure is not asked again, so a second same-day run
sends nothing for it and adds nothing; a rerun retries only what failed. A spent quota stops
the service: the links not reached are recorded as failed with the quota's reason (nothing is
lost, the next run or retry picks them up) and :class:`QuotaStopped` tells the caller.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date
from typing import Any

from newsroom.config.entities import load_entities
from newsroom.fetch import Fetcher, FetchPolicy
from newsroom.fetch.ratelimit import QuotaExhausted, QuotaGate
from newsroom.metrics import github, huggingface, pypistats
from newsroom.metrics.client import ApiSession
from newsroom.metrics.links import figure_sources
from newsroom.metrics.records import SERVICES, ApiEndpoint, FigureSource, Observation
from newsroom.metrics.settings import MetricsSettings, get_metrics_settings
from newsroom.settings import Settings
from newsroom.warehouse import open_warehouse
from newsroom.warehouse.metrics import load_responses, save_observations, save_responses, sources_done
from newsroom.warehouse.fetch_log import FetchLogEntry, append_fetch_log
from newsroom.warehouse import utcnow

log = logging.getLogger(__name__)

__all__ = ["QuotaStopped", "collect_service", "day_counts", "services_with_sources"]


class _RequestLog:
    """One ``fetch_log`` row per API request (kind = the service), written after the service ran."""

    def __init__(self, run_id: str | None):
        self.run_id, self.rows = run_id, []

    def __call__(self, res, kind: str) -> None:
        self.rows.append(FetchLogEntry(self.run_id, None, kind, res.url[:4000], res.status, len(res.body or b""),
                                       res.elapsed_ms, res.error, utcnow()))

    def flush(self, engine) -> None:
        append_fetch_log(engine, self.rows)
        self.rows = []


class QuotaStopped(RuntimeError):
    """The service's quota ran out; what was not fetched is recorded with this reason."""


def _expected_metrics(src: FigureSource) -> tuple[str, ...]:
    if src.service == "github":
        return (*github.REPO_METRICS, *github.RELEASE_METRICS)
    if src.service == "pypistats":
        return pypistats.METRICS
    return huggingface.MODEL_METRICS if src.kind == "model" else ("downloads_30d",)


def _collect_one(session: ApiSession, src: FigureSource, ms: MetricsSettings) -> list[Observation]:
    if src.service == "github":
        return list(github.collect(session, src))
    if src.service == "huggingface":
        return list(huggingface.collect(session, src, org_models=ms.org_models))
    return list(pypistats.collect(session, src))


def services_with_sources(settings: Settings) -> list[str]:
    """The services some entity links to (the DAG maps over these)."""
    sources, problems = figure_sources(load_entities(settings.entities))
    for p in problems:
        log.warning("%s", p)
    present = {s.service for s in sources}
    return [s for s in SERVICES if s in present]


def collect_service(service: str, day: date, *, settings: Settings, endpoint: ApiEndpoint | None = None,
                    run_id: str | None = None, metrics_settings: MetricsSettings | None = None,
                    gate: QuotaGate | None = None) -> dict[str, Any]:
    """Read today's figures of every link to ``service``; store them; return counts.

    Raises :class:`QuotaStopped` after storing everything when the quota stopped the service.
    """
    from newsroom.metrics.records import DEFAULT_BASE_URLS

    ms = metrics_settings or get_metrics_settings()
    endpoint = endpoint or ApiEndpoint(service, DEFAULT_BASE_URLS[service])  # type: ignore[arg-type]
    entities = load_entities(settings.entities)
    sources, problems = figure_sources(entities)
    sources = [s for s in sources if s.service == service]
    engine = open_warehouse(settings.resolved_warehouse_url)
    done = sources_done(engine, day, service)
    todo = [s for s in sources if (s.entity_id, s.link) not in done]
    gate = gate or QuotaGate(max_wait_s=ms.max_wait_s, min_backoff_s=ms.min_backoff_s)
    request_log = _RequestLog(run_id)
    policy = FetchPolicy.from_settings(settings, max_redirects=3)
    observations: list[Observation] = []
    stopped: str | None = None
    with Fetcher(policy, on_request=request_log) as fetcher:
        session = ApiSession(fetcher, endpoint, gate=gate, cache=load_responses(engine), max_bytes=ms.max_bytes)
        session.today = day
        for i, src in enumerate(todo):
            try:
                observations += _collect_one(session, src, ms)
            except QuotaExhausted as exc:
                stopped = exc.reason
                for rest in todo[i:]:  # recorded, not lost: the next run (or retry) asks again
                    observations += [Observation(rest.entity_id, rest.service, rest.subject, m, "failed", rest.link,
                                                 endpoint.base_url, reason=exc.reason) for m in _expected_metrics(rest)]
                break
    now = utcnow()
    rows = [{**o.row(day, now), "run_id": run_id} for o in observations]
    stored = save_observations(engine, rows)
    save_responses(engine, session.updated.values())
    request_log.flush(engine)
    statuses = Counter(o.status for o in observations)
    failures = Counter((o.reason or "failed").split(":")[0] for o in observations if o.status == "failed")
    counts = {"service": service, "day": day.isoformat(), "links": len(sources), "skipped_done": len(sources) - len(todo),
              "requests": session.requests, "observations": stored, **{f"status_{k}": v for k, v in statuses.items()},
              "failures": dict(failures), "link_problems": [str(p) for p in problems if _service_of(p) == service],
              "waited_s": round(gate.waited_s, 1)}
    if stopped:
        raise QuotaStopped(f"{service}: stopped after {session.requests} requests: {stopped}")
    return counts


def _service_of(problem) -> str:
    return "pypistats" if problem.service == "pypi" else problem.service


def day_counts(settings: Settings, day: date) -> dict[str, dict[str, int]]:
    """Observations stored for ``day``: {service: {status: rows}}."""
    from newsroom.warehouse.metrics import status_counts

    return status_counts(open_warehouse(settings.resolved_warehouse_url), day)
