"""newsroom: feeds and Reddit threads → full-text articles → stories, entities and digests.

The package knows nothing of Airflow: the DAGs in ``dags/`` only wire the stage
functions of :mod:`newsroom.pipeline`. Each sub-package is one stage, named for
what it does (``fetch``, ``feeds``, ``extract``, ``dedup``, ``entities``,
``digest``, ``warehouse``), in the manner of Miniflux's ``internal/reader``.
"""

__version__ = "0.1.0"
