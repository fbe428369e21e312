"""The newsroom operator page: source health, pipeline runs and digests, read-only.

``create_app()`` builds a plain FastAPI app from a warehouse URL (default: the
newsroom settings), so it runs standalone under uvicorn as well as mounted in
Airflow's API server by ``newsroom_plugin.py``.
"""

from .app import create_app

__all__ = ["create_app"]
