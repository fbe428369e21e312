"""What a task's and a run's state should say: the rules, as plain functions.

Airflow's states are only as honest as the exceptions tasks raise. Three kinds of
trouble, three answers:

* **A page's or a source's own failure** (404, not HTML, robots, a malformed feed) is
  recorded in the warehouse and does not fail anything else; a source's failure fails
  only its own mapped task.
* **A systemic failure** — the extraction pool cannot run at all, the warehouse does not
  answer — is not the data's fault and may pass: the task fails so Airflow retries it,
  and nothing is stored as if the pages were bad (:class:`SystemicFailure`).
* **An error no retry can fix** — a configuration error, a warehouse schema this code does
  not know — fails the task at once, without retries (:func:`is_permanent`).

The run as a whole is judged by :func:`judge_run` in its last task, because a DAG run is
green when its leaf task succeeds, whatever failed upstream.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel

from newsroom.records import Extraction

# A batch this small that crashes is as likely one bad page as a broken pool.
MIN_PAGES_FOR_SYSTEMIC = 2


class SystemicFailure(RuntimeError):
    """The machinery failed, not the input: fail the task so Airflow retries it."""


class ExtractionUnavailable(SystemicFailure):
    """Every page of a batch crashed its extraction worker: the pool itself is broken."""


def raise_if_extraction_broken(results: Iterable[Extraction]) -> None:
    """Raise :class:`ExtractionUnavailable` when every page of a batch (two or more) ended
    ``worker_crashed``. One crashing page among good ones is that page's problem (a
    pathological document) and is recorded as such; all of them crashing is the pool's."""
    results = list(results)
    crashed = [r for r in results if (r.reason or "").startswith("worker_crashed")]
    if len(results) >= MIN_PAGES_FOR_SYSTEMIC and len(crashed) == len(results):
        raise ExtractionUnavailable(f"extraction pool broken: all {len(results)} pages of the batch crashed their "
                                    f"worker ({crashed[0].reason})")


def is_permanent(exc: BaseException) -> bool:
    """Errors a retry cannot fix: configuration errors and a schema this code does not know."""
    from newsroom.config import ConfigError
    from newsroom.warehouse import SchemaNotAtHead

    return isinstance(exc, (ConfigError, SchemaNotAtHead))


def is_systemic(exc: BaseException) -> bool:
    """The machinery failed: the warehouse, or extraction workers that cannot start."""
    from newsroom.extract.pool import ExtractionPoolError
    from newsroom.warehouse import WarehouseUnavailable

    return isinstance(exc, (SystemicFailure, ExtractionPoolError, WarehouseUnavailable))


class RunVerdict(BaseModel):
    """Whether a run may end green, and the line its summary task logs."""

    ok: bool
    message: str


def judge_run(summary: dict, *, max_failed_share: float = 1.0) -> RunVerdict:
    """The run fails when sources were attempted and none succeeded, or when the share of
    failed sources among those attempted passes ``max_failed_share`` (the sources file's
    ``health.max_failed_share``; 1.0, the default, means only "all failed").

    Skipped sources (backoff, disabled) and retired ones were not attempted and count for
    neither side.
    """
    ok, failed = int(summary.get("sources_ok") or 0), int(summary.get("sources_failed") or 0)
    attempted = ok + failed
    reasons = {k.removeprefix("source:"): v for k, v in (summary.get("failures_by_reason") or {}).items()
               if k.startswith("source:")}
    why = ", ".join(f"{n} × {r}" for r, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
    if attempted == 0:
        return RunVerdict(ok=True, message=f"no source was due ({summary.get('sources_skipped', 0)} skipped)")
    share = failed / attempted
    counts = f"{ok} ok, {failed} failed of {attempted} attempted" + (f" ({why})" if why else "")
    if ok == 0:
        return RunVerdict(ok=False, message=f"run failed: no source succeeded — {counts}")
    if share > max_failed_share:
        return RunVerdict(ok=False, message=f"run failed: {share:.0%} of sources failed, over the threshold "
                                            f"health.max_failed_share={max_failed_share:g} — {counts}")
    return RunVerdict(ok=True, message=counts)
