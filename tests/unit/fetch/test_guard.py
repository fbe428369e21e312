"""The SSRF guard on its own: schemes, credentials, and every way of spelling an
internal address. No request leaves the machine: IP literals and numeric forms are
parsed by the resolver without a DNS query, and ``localhost`` comes from /etc/hosts."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsroom.fetch.guard import BlockedURL, GuardedBackend, check_url, is_public_address


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.org/file",
        "gopher://example.org:70/_x",
        "data:text/html,<script>alert(1)</script>",
        "javascript:alert(1)",
        "dict://127.0.0.1:11211/",
    ],
)
def test_non_http_schemes_are_refused_even_when_private_allowed(url):
    for allow_private in (False, True):
        with pytest.raises(BlockedURL) as exc:
            check_url(url, allow_private)
        assert exc.value.reason == "blocked_scheme"


def test_credentials_in_url_are_refused():
    with pytest.raises(BlockedURL) as exc:
        check_url("http://user:secret@93.184.215.14/feed", allow_private=True)
    assert exc.value.reason == "blocked_credentials"
    assert "secret" not in exc.value.detail


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.255.0.9:8080/x",
        "http://10.1.2.3/",
        "http://172.16.0.1/",
        "http://192.168.1.1/",
        "http://0.0.0.0/",
        "http://0/",
        "http://100.64.0.1/",  # carrier-grade NAT
        "http://224.0.0.1/",  # multicast
        "http://255.255.255.255/",
        "http://240.0.0.1/",  # reserved
        "http://[::1]/",
        "http://[::]/",
        "http://[fc00::1]/",
        "http://[ff02::1]/",
        "http://[::ffff:127.0.0.1]/",  # IPv4-mapped IPv6
        "http://[2002:7f00:1::]/",  # 6to4 wrapping 127.0.0.1
        "http://2130706433/",  # decimal 127.0.0.1
        "http://0x7f000001/",  # hex
        "http://0x7f.1/",
        "http://127.1/",  # short form
        "http://017700000001/",  # octal
        "http://localhost:8080/",  # a name resolving to loopback
    ],
)
def test_internal_addresses_are_refused(url):
    with pytest.raises(BlockedURL) as exc:
        check_url(url, allow_private=False)
    assert exc.value.reason in ("blocked_address", "invalid_url")
    check_url(url, allow_private=True)  # the same URL passes when private networks are allowed


METADATA_URLS = [
    "http://169.254.169.254/latest/meta-data/",  # AWS/GCP/Azure/OpenStack metadata
    "http://169.254.170.2/v2/credentials",  # ECS task credentials
    "http://169.254.0.1/",  # any IPv4 link-local
    "http://[fe80::1]/",  # IPv6 link-local
    "http://[::ffff:169.254.169.254]/",  # IPv4-mapped
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 wrapping 169.254.169.254
    "http://2852039166/",  # decimal 169.254.169.254
    "http://0xa9fea9fe/",  # hex 169.254.169.254
    "http://100.100.100.200/latest/meta-data/",  # Alibaba Cloud
    "http://[fd00:ec2::254]/latest/meta-data/",  # AWS IPv6
    "http://168.63.129.16/machine?comp=goalstate",  # Azure WireServer
]


@pytest.mark.parametrize("url", METADATA_URLS)
def test_metadata_and_link_local_refused_even_with_private_networks_allowed(url):
    for allow_private in (False, True):
        with pytest.raises(BlockedURL) as exc:
            check_url(url, allow_private=allow_private)
        assert exc.value.reason == "blocked_address"
    if allow_private:
        assert "NEWSROOM_ALLOWED_PRIVATE_HOSTS" in exc.value.detail
    # …unless the operator lists that very host.
    import httpx

    host = httpx.URL(url).host
    check_url(url, allow_private=True, allow_hosts=[host])


def test_backend_refuses_metadata_address_at_connect_time_even_when_private_allowed():
    backend = GuardedBackend(allow_private=True)
    with pytest.raises(BlockedURL) as exc:
        backend.connect_tcp("169.254.169.254", 80, timeout=0.5)
    assert exc.value.reason == "blocked_address"


def test_dotted_octal_is_refused_as_invalid():
    # httpx itself rejects '0177.0.0.1'; either way it must never be fetched.
    with pytest.raises(BlockedURL) as exc:
        check_url("http://0177.0.0.1/", allow_private=False)
    assert exc.value.reason in ("invalid_url", "blocked_address")


@pytest.mark.parametrize(
    "url", ["http://93.184.215.14/", "https://8.8.8.8:8443/a?b=c", "http://[2606:4700::1111]/", "HTTP://1.1.1.1/"]
)
def test_public_addresses_pass(url):
    check_url(url, allow_private=False)


def test_allow_hosts_exempts_exactly_that_host_and_port():
    check_url("http://127.0.0.1:8080/x", False, allow_hosts=["127.0.0.1:8080"])
    check_url("http://127.0.0.1:9/x", False, allow_hosts=["127.0.0.1"])
    with pytest.raises(BlockedURL):
        check_url("http://127.0.0.1:8081/x", False, allow_hosts=["127.0.0.1:8080"])
    with pytest.raises(BlockedURL):
        check_url("http://localhost:8080/x", False, allow_hosts=["127.0.0.1:8080"])


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_every_ipv4_address_decimal_form_judged_by_what_it_means(n):
    """``http://<integer>/`` is blocked exactly when the address it denotes is not public."""
    ip = ipaddress.IPv4Address(n)
    url = f"http://{n}/"
    if is_public_address(ip):
        check_url(url, allow_private=False)
    else:
        with pytest.raises(BlockedURL):
            check_url(url, allow_private=False)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_ipv4_mapped_ipv6_judged_like_ipv4(n):
    v4 = ipaddress.IPv4Address(n)
    v6 = ipaddress.IPv6Address(f"::ffff:{v4}")
    assert is_public_address(v6) == is_public_address(v4)


def test_backend_refuses_private_address_at_connect_time(replay_server):
    """The pinning backend re-checks at connect time, so a name that passed an earlier
    check but now resolves to loopback (DNS rebinding) is still refused."""
    backend = GuardedBackend(allow_private=False)
    with pytest.raises(BlockedURL) as exc:
        backend.connect_tcp("localhost", replay_server.port, timeout=1)
    assert exc.value.reason == "blocked_address"
    # …and connects to the checked address when allowed.
    stream = GuardedBackend(allow_private=True).connect_tcp("localhost", replay_server.port, timeout=1)
    stream.close()
