"""Address guard: refuse URLs that would make the pipeline reach inside the network (SSRF).

Feed and page URLs come from third parties (feeds, Reddit posts, redirects), so a URL
is untrusted input. A hostile one can point at the cloud metadata service
(``169.254.169.254``), at ``localhost`` admin ports, or use a ``file:`` scheme. Every URL
the fetcher requests — the first one and every redirect hop — goes through
:func:`check_url`, and the connection itself goes through :class:`GuardedBackend`, which
resolves the host once, checks *every* address and connects to the checked address
only. That pinning is what defeats DNS rebinding (a name that resolves to a public
address for the check and to ``127.0.0.1`` for the connection).

Link-local and cloud metadata addresses (``169.254.0.0/16``, ``fe80::/10``, Alibaba's
``100.100.100.200``, AWS's IPv6 ``fd00:ec2::254``, Azure's ``168.63.129.16``) are refused
even when private networks are allowed: ``NEWSROOM_ALLOW_PRIVATE_NETWORKS`` is meant for an
intranet feed or a test server, and no feed has a reason to live on the address that hands
out the machine's cloud credentials. Only an explicit ``NEWSROOM_ALLOWED_PRIVATE_HOSTS``
entry opens one.

Numeric tricks (``2130706433``, ``0177.0.0.1``, ``0x7f.1``, ``[::ffff:127.0.0.1]``) need
no special parsing: the system resolver turns them into the address they really mean
and that address is what gets checked.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from typing import Any

import httpcore

__all__ = [
    "ALLOWED_SCHEMES",
    "BlockedURL",
    "GuardedBackend",
    "HostNotFound",
    "check_url",
    "is_metadata_address",
    "is_public_address",
    "resolve_host",
]

ALLOWED_SCHEMES = frozenset({"http", "https"})

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Refused even with private networks allowed (see the module doc).
METADATA_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "169.254.0.0/16",  # IPv4 link-local: AWS/GCP/Azure/OpenStack metadata 169.254.169.254, ECS 169.254.170.2
        "fe80::/10",  # IPv6 link-local
        "100.100.100.200/32",  # Alibaba Cloud metadata
        "fd00:ec2::254/128",  # AWS instance metadata over IPv6
        "fd00:ec2::23/128",  # AWS DNS over IPv6 (Nitro)
        "168.63.129.16/32",  # Azure WireServer (platform agent, a public-looking address)
    )
)
# What may appear in an (IDNA-encoded) host: names, IPv4, bracket-less IPv6 with zone.
_HOST_CHARS = re.compile(r"^(?:[A-Za-z0-9._\-]+|\[?[0-9A-Fa-f:.]+(?:%[A-Za-z0-9._\-%]+)?\]?)$")


class BlockedURL(ValueError):
    """A URL the guard refuses. ``reason`` is the machine-readable error code
    (``blocked_scheme``, ``blocked_address``, ``blocked_credentials``, ``invalid_url``)."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class HostNotFound(OSError):
    """The host name does not resolve (not a policy refusal: a network problem)."""


def is_public_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True when ``ip`` is a globally routable unicast address.

    ``is_global`` already excludes loopback, RFC 1918, link-local (incl. the metadata
    service), unspecified, reserved, documentation and carrier-grade NAT ranges;
    multicast is excluded separately because some multicast ranges count as global.
    IPv6 forms that embed an IPv4 address (mapped, 6to4, Teredo, NAT64) are judged by
    the IPv4 address they carry, since that is where the packets end up.
    """
    if is_metadata_address(ip):
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return is_public_address(embedded)
        if ip.scope_id:
            return False
    return ip.is_global and not ip.is_multicast and not ip.is_unspecified


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    embedded = ip.ipv4_mapped or ip.sixtofour
    if embedded is None and ip.teredo is not None:
        embedded = ip.teredo[1]
    if embedded is None and ip in _NAT64:
        embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return embedded


def is_metadata_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for link-local and cloud metadata addresses (:data:`METADATA_NETWORKS`),
    including IPv6 forms that carry one (``::ffff:169.254.169.254``)."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return is_metadata_address(embedded)
    return any(ip.version == n.version and ip in n for n in METADATA_NETWORKS)


def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (numeric strings, resolver order, no duplicates).

    Raises :class:`HostNotFound` when it does not resolve.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise HostNotFound(f"could not resolve host {host!r}: {exc}") from exc
    seen: list[str] = []
    for family, _type, _proto, _canon, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        addr = sockaddr[0]
        if addr not in seen:
            seen.append(addr)
    if not seen:
        raise HostNotFound(f"host {host!r} has no IPv4/IPv6 address")
    return seen


def _exempt(host: str, port: int, allow_hosts: Iterable[str]) -> bool:
    host = host.lower().strip("[]")
    for entry in allow_hosts:
        entry = entry.lower()
        if entry == host or entry == f"{host}:{port}" or entry == f"[{host}]:{port}":
            return True
    return False


def check_addresses(host: str, port: int, addresses: list[str], allow_private: bool = False) -> None:
    """Raise :class:`BlockedURL` unless every one of ``addresses`` is public (or, with
    ``allow_private``, at least not link-local or a metadata address).

    *All* addresses must pass, not just the first: the connection may use any of them.
    """
    for addr in addresses:
        ip = ipaddress.ip_address(addr.split("%", 1)[0])
        if is_metadata_address(ip):
            shown = host if host == addr else f"{host} ({addr})"
            raise BlockedURL(
                "blocked_address",
                f"address {shown} is a link-local or cloud metadata address (refused even with private "
                "networks allowed; list the host in NEWSROOM_ALLOWED_PRIVATE_HOSTS to fetch it)",
            )
        if not allow_private and not is_public_address(ip):
            shown = host if host == addr else f"{host} ({addr})"
            raise BlockedURL("blocked_address", f"address {shown} is not a public address ({_kind(ip)})")


def _kind(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        return "IPv4-mapped " + _kind(ip.ipv4_mapped)
    for attr in ("is_loopback", "is_link_local", "is_multicast", "is_unspecified", "is_private", "is_reserved"):
        if getattr(ip, attr):
            return attr.removeprefix("is_").replace("_", "-")
    return "not globally routable"


def check_url(url: str, allow_private: bool, *, allow_hosts: Iterable[str] = (), resolve: bool = True) -> None:
    """Refuse ``url`` unless it is an http(s) URL without credentials whose host
    resolves only to public addresses.

    Raises :class:`BlockedURL` (``reason`` says why) or :class:`HostNotFound`.
    ``allow_private`` lets loopback and private addresses through (tests, intranet
    deployments) but never link-local or metadata addresses; ``allow_hosts`` exempts
    single ``host`` or ``host:port`` entries from the address check altogether (an
    operator's explicit exception — scheme and credential checks still apply).
    ``resolve=False`` checks IP literals but leaves host names to the caller — the
    fetcher does that, because :class:`GuardedBackend` resolves and checks names at
    connect time anyway and one DNS lookup per hop is enough.
    """
    import httpx

    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise BlockedURL("invalid_url", f"invalid URL {url!r}: {exc}") from exc
    scheme = parsed.scheme.lower()
    if not scheme and not parsed.host:
        raise BlockedURL("invalid_url", f"{url!r} is not an absolute URL")
    if scheme not in ALLOWED_SCHEMES:
        raise BlockedURL("blocked_scheme", f"scheme {scheme or '(none)'!r} is not allowed (only http and https)")
    if parsed.userinfo:
        # Credentials in URLs end up in logs and Referer headers, and are a classic
        # way to disguise the real host (http://trusted.com@evil.example/).
        raise BlockedURL("blocked_credentials", "URLs with embedded credentials are refused")
    host = parsed.host
    if not host:
        raise BlockedURL("invalid_url", f"URL {url!r} has no host")
    if not _HOST_CHARS.match(parsed.raw_host.decode("ascii", errors="replace")):
        raise BlockedURL("invalid_url", f"URL {url!r} has an invalid host {host!r}")
    port = parsed.port or (443 if scheme == "https" else 80)
    if _exempt(host, port, allow_hosts):
        return
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is None and not resolve:
        return
    addresses = [str(literal)] if literal is not None else resolve_host(host, port)
    check_addresses(host, port, addresses, allow_private)


class GuardedBackend(httpcore.NetworkBackend):
    """An httpcore network backend that resolves, checks and *pins* each connection.

    httpx would otherwise resolve the name again when connecting, so a name checked by
    :func:`check_url` could resolve to a private address a moment later (DNS
    rebinding). Here the name is resolved once, all its addresses are checked, and the
    socket connects to one of those very addresses. TLS still verifies the original
    host name, because httpcore passes it to ``start_tls`` separately.
    """

    def __init__(self, allow_private: bool, allow_hosts: Iterable[str] = ()):
        self._inner = httpcore.SyncBackend()
        self.allow_private = allow_private
        self.allow_hosts = tuple(allow_hosts)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = resolve_host(host, port)
        except HostNotFound as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        if not _exempt(host, port, self.allow_hosts):
            check_addresses(host, port, addresses, self.allow_private)
        last: Exception | None = None
        for addr in addresses:
            try:
                return self._inner.connect_tcp(
                    addr, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except httpcore.ConnectTimeout:
                raise
            except httpcore.ConnectError as exc:
                last = exc
        assert last is not None
        raise last

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options=None):
        raise BlockedURL("blocked_scheme", "unix sockets are never used by the fetcher")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)
