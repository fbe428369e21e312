"""The newsroom Airflow plugin: the operator page inside the Airflow UI.

- ``fastapi_apps``: :func:`newsroom_ui.create_app` mounted at ``/newsroom`` on the
  API server, over the warehouse of the ``NEWSROOM_*`` settings.
- ``external_views``: a "Newsroom" item in the UI's sidebar (``destination: nav``)
  that shows the page in the Airflow frame (route ``/plugin/newsroom``).

Airflow does not authenticate plugin apps (a mounted app inherits none of the
API's dependencies), so every route here requires a logged-in Airflow user via
Airflow's own ``requires_authenticated`` (the UI's ``_token`` cookie or a
bearer token); anonymous callers get 401.

The hooks (``newsroom_hooks``) need no registration: Airflow puts this folder
on ``sys.path``, and DAG tasks import them from there.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends

from newsroom_ui import create_app

URL_PREFIX = "/newsroom"


def _login_required():
    from airflow.api_fastapi.core_api.security import requires_authenticated

    return Depends(requires_authenticated())


operator_page = create_app(dependencies=[_login_required()])


class NewsroomPlugin(AirflowPlugin):
    """Registers the operator page and its menu entry."""

    name = "newsroom"
    fastapi_apps = [{"app": operator_page, "url_prefix": URL_PREFIX, "name": "newsroom operator page"}]
    external_views = [{
        "name": "Newsroom",
        "href": URL_PREFIX.lstrip("/") + "/",  # relative to the UI's base URL (works behind a proxy prefix)
        "url_route": "newsroom",
        "destination": "nav",
    }]
