"""Run in a subprocess by test_plugin_loads: Airflow's own API server app (in process,
no port), with this project's plugins folder, answering as it would in production.

Prints one JSON object: plugin import errors, and status/body of requests to the
mounted operator page without and with an Airflow login."""

from __future__ import annotations

import json
import sys


def main() -> None:
    from airflow import plugins_manager
    from airflow.api_fastapi.app import get_auth_manager, init_auth_manager, init_middlewares, init_plugins
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    # The API server's own wiring of plugins, auth manager and middlewares (what
    # ``airflow.api_fastapi.app.create_app("core")`` does), without the core routes and
    # DAG bag that the page does not touch.
    app = FastAPI()
    init_plugins(app)
    init_auth_manager(app)
    init_middlewares(app)
    out: dict = {"import_errors": plugins_manager.get_import_errors()}
    with TestClient(app) as c:
        anon = c.get("/newsroom/")
        out["anonymous"] = anon.status_code
        out["anonymous_api"] = c.get("/newsroom/api/sources").status_code
        from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

        token = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username="admin", role="viewer"))
        cookie = c.get("/newsroom/", cookies={"_token": token})
        out["cookie"] = cookie.status_code
        out["cookie_body"] = cookie.text
        out["csp"] = cookie.headers.get("content-security-policy")
        out["bearer"] = c.get("/newsroom/api/digests", headers={"Authorization": f"Bearer {token}"}).json()
        out["forged"] = c.get("/newsroom/", cookies={"_token": token[:-4] + "AAAA"}).status_code
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
