"""The task state a pipeline exception deserves, in one place for every DAG.

    from newsroom_failures import honest_failures
    with honest_failures():
        counts = run_the_stage(...)

A run's state tells the truth: an error no retry can fix (a config error, an unknown
warehouse schema) fails the task at once, without its retries; a systemic one (the
warehouse down, the extraction pool broken) fails it with one line and Airflow retries;
anything else propagates as it is. Which exception is which is the package's call
(:mod:`newsroom.pipeline.outcome`); turning that into Airflow's vocabulary
(``AirflowFailException``) is this module's, so ``include/newsroom`` stays free of Airflow.

It sits in ``plugins/`` for the reason :mod:`newsroom_assets` does: the plugins folder is on
``sys.path`` in every Airflow process, and a helper in ``dags/`` would be a DAG file
candidate. Importing it costs a DAG file nothing at parse time (the package is imported
only when an exception is being classified, inside a task).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from airflow.sdk.exceptions import AirflowFailException

__all__ = ["honest_failures"]


@contextmanager
def honest_failures() -> Iterator[None]:
    """Run the block; re-raise its exception as the task state it deserves (see the module)."""
    try:
        yield
    except Exception as exc:
        from newsroom.pipeline.outcome import is_permanent, is_systemic

        if is_permanent(exc):
            raise AirflowFailException(f"{type(exc).__name__}: {exc}") from None
        if is_systemic(exc):
            raise RuntimeError(f"{type(exc).__name__}: {exc}") from None
        raise
