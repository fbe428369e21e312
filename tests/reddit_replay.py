"""Reddit routes on the replay server: the shared corpus served where Reddit serves it.

The corpus manifest records, for every body, the public URL it answers
(``public_json_url``); :class:`RedditReplay` mounts bodies there — and at the
OAuth host's form of the same path (no ``.json``) — so the client under test
talks HTTP to a real server exactly as it would to Reddit:

    rr = RedditReplay(replay_server, corpus)
    rr.listing("askreddit", "hot", "listings/r_askreddit_hot_2020-07-10.json")
    rr.thread("n49rw", "threads/n49rw_announcements_2016-03-22.json")
    rr.token_endpoint(client_id="id", client_secret="secret")   # OAuth, counted

Nothing in the client is patched; the server counts requests per path.
"""

from __future__ import annotations

import base64
import json
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.replay_server import ReplayServer

JSON = "application/json; charset=UTF-8"


def _enable_post(server: ReplayServer) -> None:
    """Let routes answer POST (Reddit's token endpoint is a POST). Added to this
    server's handler class only; GET handling is untouched."""
    cls = server.httpd.RequestHandlerClass
    if getattr(cls, "_reddit_post", False):
        return

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.request_body = self.rfile.read(n) if n else b""
        self._serve(head=False)

    cls.do_POST = do_POST
    cls._reddit_post = True


class RedditReplay:
    def __init__(self, server: ReplayServer, corpus: Path):
        self.server = server
        self.root = corpus / "reddit"
        self.manifest = {r["file"]: r for r in json.loads((self.root / "manifest.json").read_text())}
        self.valid_tokens: set[str] = set()
        self.tokens_issued = 0
        self.require_token = False
        self._lock = threading.Lock()
        _enable_post(server)

    # -- bodies -------------------------------------------------------------
    def body(self, file: str) -> bytes:
        return (self.root / file).read_bytes()

    def doc(self, file: str):
        return json.loads(self.body(file))

    def public_path(self, file: str) -> str:
        """The path (no host, no query) where Reddit's public site serves ``file``."""
        return urlsplit(self.manifest[file]["public_json_url"]).path

    # -- mounting -----------------------------------------------------------
    def _mount(self, json_path: str, handler) -> None:
        for p in {json_path, json_path.removesuffix(".json")}:
            self.server.add(p, handler=handler)

    def _guarded(self, produce):
        """Wrap a route so that, in OAuth mode, it wants a valid bearer token."""

        def handler(req):
            if self.require_token:
                auth = req.headers.get("Authorization", "")
                token = auth.split(" ", 1)[1] if auth.lower().startswith("bearer ") else None
                with self._lock:
                    ok = token in self.valid_tokens
                if not ok:
                    return 401, {"Content-Type": JSON}, b'{"message": "Unauthorized", "error": 401}'
            return produce(req)

        return handler

    def serve(self, path: str, body: bytes, *, status: int = 200, content_type: str = JSON,
              headers: dict[str, str] | None = None) -> None:
        """Serve a fixed body at ``path`` (and its OAuth form)."""
        h = {"Content-Type": content_type, **(headers or {})}
        self._mount(path, self._guarded(lambda req: (status, dict(h), body)))

    def file(self, file: str, *, status: int | None = None) -> str:
        """Serve a corpus file at its recorded public path, with its recorded status."""
        rec = self.manifest[file]
        path = self.public_path(file)
        self.serve(path, self.body(file), status=status or rec.get("status") or rec.get("response_status") or 200,
                   content_type=rec.get("content_type") or JSON)
        return path

    def listing(self, sub: str, listing: str, file: str, *, next_file: str | None = None) -> str:
        """A listing at ``/r/SUB/LISTING.json``; with ``next_file``, a request
        carrying ``after=`` gets the second page (the corpus's paginated pair)."""
        first, second = self.body(file), self.body(next_file) if next_file else None

        def produce(req):
            q = parse_qs(urlsplit(req.path).query)
            if second is not None and q.get("after"):
                return 200, {"Content-Type": JSON}, second
            return 200, {"Content-Type": JSON}, first

        path = f"/r/{sub}/{listing}.json"
        self._mount(path, self._guarded(produce))
        return path

    def thread(self, post_id: str, file: str | None = None, *, body: bytes | None = None) -> str:
        path = f"/comments/{post_id}.json"
        self.serve(path, body if body is not None else self.body(file))
        return path

    def rss(self, sub: str, file: str) -> str:
        path = f"/r/{sub}/.rss"
        self.server.add(path, body=self.body(file), content_type="application/atom+xml; charset=UTF-8")
        return path

    def token_endpoint(self, *, client_id: str, client_secret: str, expires_in: int = 3600) -> str:
        """``POST /api/v1/access_token`` (client credentials): checks HTTP Basic
        auth, issues ``token-1``, ``token-2``… and makes the API routes require one."""
        self.require_token = True
        expected = "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()

        def produce(req):
            if req.command != "POST" or req.headers.get("Authorization") != expected \
                    or b"grant_type=client_credentials" not in getattr(req, "request_body", b""):
                return 401, {"Content-Type": JSON}, b'{"message": "Unauthorized", "error": 401}'
            with self._lock:
                self.tokens_issued += 1
                token = f"token-{self.tokens_issued}"
                self.valid_tokens.add(token)
            return 200, {"Content-Type": JSON}, json.dumps(
                {"access_token": token, "token_type": "bearer", "expires_in": expires_in, "scope": "*"}).encode()

        self.server.add("/api/v1/access_token", handler=produce)
        return self.server.url("/api/v1/access_token")

    def revoke_tokens(self) -> None:
        """Invalidate every issued token (what Reddit does when one expires early)."""
        with self._lock:
            self.valid_tokens.clear()

    # -- synthetic listings from real posts ---------------------------------
    def submission(self, thread_file: str) -> dict:
        """The ``t3`` child of a thread file (a real post, with its real thread)."""
        return self.doc(thread_file)[0]["data"]["children"][0]

    @staticmethod
    def listing_body(children: list[dict], after: str | None = None) -> bytes:
        return json.dumps({"kind": "Listing", "data": {"after": after, "before": None, "dist": len(children),
                                                       "modhash": "", "children": children}}).encode()

    def thread_files(self) -> list[str]:
        return [f for f in self.manifest if f.startswith("threads/")]

    def requests_to(self, prefix: str) -> int:
        return sum(1 for _, full, _ in self.server.requests if urlsplit(full).path.startswith(prefix))
