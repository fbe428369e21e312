"""Fixtures for the fetch tests: a permissive policy for the 127.0.0.1 replay server,
a fetcher that records every on_request call, and a loopback "blackhole" port."""

from __future__ import annotations

import socket

import pytest

from newsroom.fetch import Fetcher, FetchPolicy

UA = "newsroom-test/1.0 (+https://example.org/bot)"


@pytest.fixture
def policy() -> FetchPolicy:
    # Private networks allowed: the replay server lives on 127.0.0.1.
    return FetchPolicy(
        user_agent=UA,
        connect_timeout=2.0,
        read_timeout=2.0,
        total_timeout=5.0,
        allow_private_networks=True,
    )


@pytest.fixture
def requests_log() -> list[tuple[str, str, int | None, str | None]]:
    return []


@pytest.fixture
def fetcher(policy, requests_log):
    def on_request(result, kind):
        requests_log.append((kind, result.url, result.status, result.error))

    with Fetcher(policy, on_request=on_request) as f:
        yield f


@pytest.fixture
def blackhole_port():
    """A loopback port whose accept queue is full, so new connections hang in SYN.

    A listener with backlog 0 that never calls accept() takes one connection; once a
    filler occupies it, the kernel drops further SYNs and connect() waits — a real
    connect timeout without leaving the machine.
    """
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(0)
    port = srv.getsockname()[1]
    fillers = []
    saturated = False
    for _ in range(16):
        c = socket.socket()
        c.settimeout(0.3)
        try:
            c.connect(("127.0.0.1", port))
            fillers.append(c)
        except (socket.timeout, OSError):
            c.close()
            saturated = True
            break
    if not saturated:
        for c in fillers:
            c.close()
        srv.close()
        pytest.skip("could not saturate a loopback accept queue on this kernel")
    yield port
    for c in fillers:
        c.close()
    srv.close()
