"""The newsroom's assets, defined once: producers emit them and consumers schedule on them.

It lives in ``plugins/`` (beside ``newsroom_hooks``) because Airflow puts the plugins
folder on ``sys.path`` in every process that imports it — the dag-processor, task
processes, ``dag.test()`` and a plain ``DagBag`` in tests — whereas the DAGs folder is only
added by the bundle-aware parsers, and a helper inside ``dags/`` would be a DAG file
candidate. ``include/newsroom`` knows nothing of Airflow, so not there either. An asset
is identified by its name and URI, so two definitions that drift apart (a typo in one URI)
would make two assets and a consumer that never runs; one module keeps producers and consumers on the same objects. It imports only
``airflow.sdk.Asset``, so importing it costs a DAG file nothing at parse time.
"""

from __future__ import annotations

from airflow.sdk import Asset

#: Articles stored or reworked: every ``newsroom_ingest`` run and every ``newsroom_reprocess`` run.
ARTICLES = Asset(name="newsroom_articles", uri="newsroom://warehouse/articles")
#: One day's digest built (scheduled, manual, triggered by a reprocess, or backfilled).
DIGESTS = Asset(name="newsroom_digests", uri="newsroom://warehouse/digests")
#: Entity figures collected by ``newsroom_metrics``.
ENTITY_METRICS = Asset(name="newsroom_entity_metrics", uri="newsroom://warehouse/entity_metrics")
