"""Rate-limit headers of the three shapes in use, and what counts as a refusal."""

from __future__ import annotations

import pytest

from newsroom.fetch.ratelimit import QuotaExhausted, QuotaGate, limit_kind, parse_rate_limit
from newsroom.records import FetchResult

NOW = 1_775_000_000.0


def test_github_headers():
    rl = parse_rate_limit({"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "4999", "X-RateLimit-Used": "1",
                           "X-RateLimit-Reset": str(int(NOW) + 60), "X-RateLimit-Resource": "core"}, NOW)
    assert (rl.limit, rl.remaining, rl.used, rl.reset_at, rl.resource) == (5000, 4999, 1, NOW + 60, "core")


def test_ietf_and_structured_headers_reset_in_seconds_from_now():
    assert parse_rate_limit({"ratelimit-remaining": "0", "ratelimit-reset": "30"}, NOW).reset_at == NOW + 30
    rl = parse_rate_limit({"RateLimit": '"api";r=0;t=42', "RateLimit-Policy": '"fixed window";"api";q=500;w=300'}, NOW)
    assert (rl.remaining, rl.reset_at, rl.limit) == (0, NOW + 42, 500)
    assert parse_rate_limit({"content-type": "application/json"}, NOW) is None


def _r(status, headers=None, body=b"", retry_after=None):
    return FetchResult(url="https://api.example/x", status=status, headers=headers or {}, body=body,
                       retry_after_s=retry_after, error=f"http_{status}" if status >= 400 else None)


def test_what_counts_as_a_refusal():
    assert limit_kind(_r(403, {"x-ratelimit-remaining": "0"})) == "primary"
    assert limit_kind(_r(403, {"x-ratelimit-remaining": "12"}, b'{"message": "You have exceeded a secondary rate limit"}')) \
        == "secondary"
    assert limit_kind(_r(429, retry_after=5)) == "secondary"
    assert limit_kind(_r(403, {"x-ratelimit-remaining": "12"}, b'{"message": "Resource not accessible"}')) is None
    assert limit_kind(_r(200, {"x-ratelimit-remaining": "0"})) is None


def test_the_gate_blocks_the_host_after_the_last_request_of_the_quota():
    clock = [NOW]
    slept = []
    gate = QuotaGate(max_wait_s=10, sleep=lambda s: (slept.append(s), clock.__setitem__(0, clock[0] + s)),
                     clock=lambda: clock[0])
    url = "https://api.example/x"
    gate.observe(url, _r(200, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 5)}))
    gate.before(url)  # waits for the reset instead of sending a request that would be refused
    assert slept == [5.0]
    gate.observe(url, _r(200, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(clock[0]) + 3600)}))
    with pytest.raises(QuotaExhausted, match="spent until"):
        gate.before(url)
    gate.before("https://other.example/y")  # another host has its own budget
