"""GitHub, the Hugging Face Hub and pypistats as a local HTTP server, answering with the
documented response shapes and headers (fixtures written from the API docs, not recorded):

* GitHub: ``x-ratelimit-limit/-remaining/-used/-reset/-resource`` on every answer, strong
  ETags, 304 to a matching ``If-None-Match`` (which costs no quota), 301 for a renamed
  repository (to ``/repositories/{id}``), 404 ``{"message": "Not Found"}`` for an unknown
  repository or a repository without releases, 403 + ``x-ratelimit-remaining: 0`` once the
  quota is spent.
* Hugging Face: ``/api/models/{id}`` with only the ``expand[]`` properties (+ ``id``); a
  gated public model with ``gated: "manual"``; 401 without a token for a private model; the
  organisation listing sorted by downloads and paged by ``Link: <…>; rel="next"``.
* pypistats: ``/api/packages/{name}/recent``; 404 for an unknown package; one package whose
  body is hostile (far larger than any real answer).

``day`` switches the figures (day 1 → day 2); ``hits`` counts requests per API.
"""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

from tests.replay_server import ReplayServer

REPOS = {  # current full_name → {day: (stars, forks, open_issues, subscribers)}
    "FoundationAgents/MetaGPT": {1: (65024, 7800, 120, 600), 2: (65024, 7800, 120, 600)},  # unchanged → 304
    "Netflix/metaflow": {1: (9935, 800, 250, 290), 2: (9990, 805, 248, 291)},
    "acme/norelease": {1: (12, 1, 0, 2), 2: (13, 1, 0, 2)},
}
RENAMED = {"geekan/MetaGPT": 660551251}  # old name → repository id of FoundationAgents/MetaGPT
RELEASES = {"FoundationAgents/MetaGPT": ("v0.8.1", "2024-04-22T10:00:00Z"),
            "Netflix/metaflow": ("2.12.0", "2024-06-01T08:00:00Z")}
MODELS = {  # id → {day: (downloads 30d, all time, likes)}
    "meta-llama/Llama-3.1-8B-Instruct": {1: (8712721, 50_000_000, 4000), 2: (8800000, 50_400_000, 4010)},
    "meta-llama/Llama-3.2-3B-Instruct": {1: (5884443, 20_000_000, 1500), 2: (5900000, 20_100_000, 1505)},
    "meta-llama/Llama-3.2-1B-Instruct": {1: (4193034, 15_000_000, 900), 2: (4200000, 15_050_000, 905)},
    "meta-llama/Llama-Guard-Gated": {1: (1000, 5000, 10), 2: (1100, 5200, 11)},
}
GATED = {"meta-llama/Llama-Guard-Gated": "manual"}
PRIVATE = {"acme/private-model"}
PACKAGES = {"metaflow": {1: (10_000, 70_000, 300_000), 2: (11_000, 71_000, 301_000)}}
HUGE = {"hugepkg"}


class FakeAPIs:
    def __init__(self, *, quota: int = 5000):
        self.server = ReplayServer()
        self.day = 1
        self.quota, self.used, self.reset_in = quota, 0, 3600
        self.hits = {"github": 0, "huggingface": 0, "pypistats": 0}
        self.github_304 = 0
        self.throttle: list[tuple[int, dict[str, str]]] = []  # queued refusals for the next GitHub requests
        self.server.routes = _Dispatch(self)

    # -- lifecycle
    def __enter__(self) -> "FakeAPIs":
        self.server.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.stop()

    @property
    def base_url(self) -> str:
        return self.server.base_url

    # -- GitHub
    def _gh_headers(self, counted: bool) -> dict[str, str]:
        if counted:
            self.used += 1
        return {"Content-Type": "application/json; charset=utf-8", "x-ratelimit-limit": str(self.quota),
                "x-ratelimit-remaining": str(max(0, self.quota - self.used)), "x-ratelimit-used": str(self.used),
                "x-ratelimit-reset": str(int(time.time() + self.reset_in)), "x-ratelimit-resource": "core"}

    def github(self, h) -> tuple[int, dict[str, str], bytes]:
        self.hits["github"] += 1
        if self.throttle:
            status, extra = self.throttle.pop(0)
            headers = {**self._gh_headers(False), **extra}
            return status, headers, json.dumps({"message": "API rate limit exceeded"}).encode()
        if self.used >= self.quota:
            return 403, self._gh_headers(False), json.dumps({"message": "API rate limit exceeded for user"}).encode()
        path = urlsplit(h.path).path
        parts = path.strip("/").split("/")
        if parts[0] == "repositories":
            name = next((n for n, i in RENAMED.items() if str(i) == parts[1]), None)
            full = "FoundationAgents/MetaGPT" if name else None
            rest = parts[2:]
        else:
            full = f"{parts[1]}/{parts[2]}" if len(parts) >= 3 else None
            rest = parts[3:]
            if full in RENAMED:
                loc = f"{self.base_url}/repositories/{RENAMED[full]}" + ("/" + "/".join(rest) if rest else "")
                return 301, {**self._gh_headers(True), "Location": loc}, json.dumps(
                    {"message": "Moved Permanently", "url": loc}).encode()
        if full not in REPOS:
            return 404, self._gh_headers(True), b'{"message": "Not Found", "status": "404"}'
        if rest == ["releases", "latest"]:
            if full not in RELEASES:
                return 404, self._gh_headers(True), b'{"message": "Not Found", "status": "404"}'
            tag, at = RELEASES[full]
            body = {"tag_name": tag, "published_at": at, "name": tag, "draft": False}
            etag = f'"rel-{full}-{tag}"'
        else:
            stars, forks, issues, subs = REPOS[full][self.day]
            body = {"id": 1, "full_name": full, "stargazers_count": stars, "watchers_count": stars,
                    "forks_count": forks, "open_issues_count": issues, "subscribers_count": subs,
                    "pushed_at": f"2026-04-0{self.day}T12:00:00Z"}
            etag = f'"{full}-{stars}-{forks}-{issues}-{subs}"' if full != "FoundationAgents/MetaGPT" else '"metagpt-v1"'
            if full == "FoundationAgents/MetaGPT":
                body["pushed_at"] = "2026-04-01T12:00:00Z"
        if h.headers.get("If-None-Match") == etag:
            self.github_304 += 1
            return 304, {**self._gh_headers(False), "ETag": etag}, b""
        return 200, {**self._gh_headers(True), "ETag": etag}, json.dumps(body).encode()

    # -- Hugging Face
    def huggingface(self, h) -> tuple[int, dict[str, str], bytes]:
        self.hits["huggingface"] += 1
        u = urlsplit(h.path)
        q = parse_qs(u.query)
        expand = q.get("expand[]", [])
        js = {"Content-Type": "application/json; charset=utf-8"}

        def view(mid: str) -> dict:
            d30, total, likes = MODELS[mid][self.day]
            full = {"downloads": d30, "downloadsAllTime": total, "likes": likes,
                    "lastModified": "2026-03-01T00:00:00.000Z", "gated": GATED.get(mid, False)}
            return {"_id": "x", "id": mid, **{k: v for k, v in full.items() if k in expand}}

        if u.path == "/api/models":
            author = q.get("author", [""])[0]
            limit = int(q.get("limit", ["10"])[0])
            ids = sorted((m for m in MODELS if m.startswith(author + "/")),
                         key=lambda m: -MODELS[m][self.day][0])
            start = int(q.get("cursor", ["0"])[0])
            page = ids[start:start + min(limit, 2)]  # pages of two, to exercise Link
            headers = dict(js)
            if start + 2 < len(ids) and len(page) < limit:
                headers["Link"] = (f'<{self.base_url}/api/models?author={author}&sort=downloads&limit={limit}'
                                   + "".join(f"&expand[]={e}" for e in expand) + f'&cursor={start + 2}>; rel="next"')
            return 200, headers, json.dumps([view(m) for m in page]).encode()
        mid = u.path.removeprefix("/api/models/")
        auth = h.headers.get("Authorization")
        if mid in PRIVATE or mid not in MODELS:
            if not auth:
                return 401, {**js, "X-Error-Code": "RepoNotFound"}, json.dumps(
                    {"error": "Repository Not Found for url"}).encode()
            return 404, {**js, "X-Error-Code": "RepoNotFound"}, b'{"error": "Repository not found"}'
        return 200, {**js, "ETag": f'W/"{mid}-{self.day}"'}, json.dumps(view(mid)).encode()

    # -- pypistats
    def pypistats(self, h) -> tuple[int, dict[str, str], bytes]:
        self.hits["pypistats"] += 1
        name = urlsplit(h.path).path.split("/")[3]
        js = {"Content-Type": "application/json"}
        if name in HUGE:
            return 200, js, b'{"data": {"last_day": 1, "pad": "' + b"x" * 3_000_000 + b'"}}'
        if name not in PACKAGES:
            return 404, {"Content-Type": "text/html"}, b"<html><body>Not Found</body></html>"
        d, w, m = PACKAGES[name][self.day]
        return 200, js, json.dumps({"data": {"last_day": d, "last_week": w, "last_month": m},
                                    "package": name, "type": "recent_downloads"}).encode()


class _Dispatch(dict):
    """ReplayServer looks routes up by path: answer every path from the fake APIs."""

    def __init__(self, apis: FakeAPIs):
        super().__init__()
        self.apis = apis

    def get(self, key, default=None):
        from tests.replay_server import Route

        path = urlsplit(key).path
        if path.startswith(("/repos/", "/repositories/")):
            return Route(handler=self.apis.github)
        if path.startswith("/api/models"):
            return Route(handler=self.apis.huggingface)
        if path.startswith("/api/packages/"):
            return Route(handler=self.apis.pypistats)
        return None
