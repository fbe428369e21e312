"""A real HTTP server on 127.0.0.1 that replays recorded responses.

Tests and benchmarks register routes (path → status, headers, body) and point
the pipeline at ``server.url(path)``. It honours conditional GET (ETag /
If-Modified-Since → 304), can delay, drip, redirect or gzip, and counts
requests per path so tests can assert what the client did — nothing in the
client is patched.

    with ReplayServer() as srv:
        srv.add("/feed.xml", body=xml_bytes, content_type="application/rss+xml", etag='"v1"')
        ... fetch srv.url("/feed.xml") ...
        assert srv.hits("/feed.xml") == 1
"""

from __future__ import annotations

import gzip as _gzip
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import urlsplit


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    delay_s: float = 0.0
    drip_s: float | None = None  # send one byte every drip_s seconds, forever
    gzip: bool = False
    chunked: bool = False  # send the body with Transfer-Encoding: chunked (no Content-Length)
    handler: Callable[["BaseHTTPRequestHandler"], tuple[int, dict[str, str], bytes]] | None = None


class ReplayServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # (method, path+query, headers)
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes; without TCP_NODELAY, Nagle plus the
            # client's delayed ACK adds ~40 ms to every keep-alive request.
            disable_nagle_algorithm = True

            def log_message(self, *args):  # keep test output quiet
                pass

            def do_HEAD(self):
                self._serve(head=True)

            def do_GET(self):
                self._serve(head=False)

            def do_POST(self):
                # The request body is read up front and left on ``self.body`` for handlers
                # (e.g. a fake OpenAI-compatible /v1/chat/completions endpoint).
                length = int(self.headers.get("Content-Length") or 0)
                self.body = self.rfile.read(length) if length else b""
                self._serve(head=False)

            def _serve(self, head: bool):
                full = self.path
                path = urlsplit(full).path
                with server._lock:
                    server.requests.append((self.command, full, {k.lower(): v for k, v in self.headers.items()}))
                    server._counts[path] += 1
                    server._counts[full] += 1 if full != path else 0
                route = server.routes.get(full) or server.routes.get(path)
                if route is None:
                    self._send(404, {"Content-Type": "text/plain"}, b"not found", head)
                    return
                if route.delay_s:
                    time.sleep(route.delay_s)
                if route.handler is not None:
                    status, headers, body = route.handler(self)
                    self._send(status, headers, body, head)
                    return
                headers = dict(route.headers)
                if route.etag:
                    headers["ETag"] = route.etag
                if route.last_modified:
                    headers["Last-Modified"] = route.last_modified
                inm = self.headers.get("If-None-Match")
                ims = self.headers.get("If-Modified-Since")
                if route.status == 200 and (
                    (route.etag and inm == route.etag)
                    or (route.last_modified and ims == route.last_modified and not inm)
                ):
                    self._send(304, {k: v for k, v in headers.items() if k in ("ETag", "Last-Modified")}, b"", head)
                    return
                if route.drip_s is not None:
                    self.send_response(route.status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(10**9))
                    self.end_headers()
                    try:
                        for _ in range(100000):
                            self.wfile.write(b"<")
                            self.wfile.flush()
                            time.sleep(route.drip_s)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    return
                body = route.body
                if route.gzip:
                    headers["Content-Encoding"] = "gzip"
                    if not body.startswith(b"\x1f\x8b"):
                        body = _gzip.compress(body)
                if route.chunked:
                    self._send_chunked(route.status, headers, body, head)
                    return
                self._send(route.status, headers, body, head)

            def _send_chunked(self, status, headers, body, head, size=65536):
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    if head:
                        return
                    for i in range(0, len(body), size):
                        piece = body[i : i + size]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _send(self, status, headers, body, head):
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if not head:
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.host, self.port = self.httpd.server_address[:2]
        self._thread: threading.Thread | None = None

    # -- routes -----------------------------------------------------------
    def add(self, path: str, body: bytes | str = b"", status: int = 200, content_type: str | None = None,
            headers: dict[str, str] | None = None, **kw) -> str:
        """Serve ``body`` at ``path`` (a path, or path?query for an exact match); returns its URL."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        h = dict(headers or {})
        if content_type:
            h["Content-Type"] = content_type
        self.routes[path] = Route(status=status, body=body, headers=h, **kw)
        return self.url(path)

    def redirect(self, path: str, to: str, status: int = 302) -> str:
        return self.add(path, status=status, headers={"Location": to})

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def hits(self, path: str) -> int:
        with self._lock:
            return self._counts[path]

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()
            self.requests.clear()

    # -- lifecycle --------------------------------------------------------
    def start(self) -> "ReplayServer":
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> "ReplayServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
