"""Figures about tracked entities over time: GitHub stars, Hugging Face downloads, PyPI downloads.

The entities file says where each entity's figures live (``links: {github: …, huggingface: …,
pypi: …}``); this package turns those links into API requests (``links``, one module per
service: ``github``, ``huggingface``, ``pypistats``), talks to the APIs through the one guarded
fetcher with ETags and quotas (``client``), and renders what the warehouse kept (``render``).
It knows nothing of Airflow; ``newsroom.pipeline.metrics`` wires it to the warehouse and the
``newsroom_metrics`` DAG runs it once a day. See docs/metrics.md.
"""

from newsroom.metrics.records import ApiEndpoint, FigureSource, Observation

__all__ = ["ApiEndpoint", "FigureSource", "Observation"]
