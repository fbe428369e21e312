"""How politely and how defensively the fetcher talks to the outside world.

One object holds every limit, so a stage (feeds, pages, Reddit) can tighten or loosen
them without touching the client, and tests can shrink them to milliseconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

if TYPE_CHECKING:  # pragma: no cover
    from newsroom.settings import Settings


class FetchPolicy(BaseModel):
    """Limits and manners of one :class:`~newsroom.fetch.client.Fetcher`."""

    user_agent: str
    connect_timeout: float = Field(10.0, gt=0, description="Seconds to establish a TCP/TLS connection.")
    read_timeout: float = Field(20.0, gt=0, description="Seconds to wait for any single read.")
    total_timeout: float = Field(
        60.0,
        gt=0,
        description="Wall-clock cap on one fetch including redirects and body: a server that "
        "drips one byte per second never trips the read timeout, this stops it.",
    )
    max_bytes: int = Field(
        10_000_000, gt=0, description="Cap on the *decompressed* body; larger bodies fail with too_large."
    )
    max_error_body_bytes: int = Field(
        65_536, ge=0, description="Error responses (4xx/5xx) keep at most this much body, silently truncated."
    )
    max_redirects: int = Field(5, ge=0)
    allow_private_networks: bool = Field(
        False, description="Skip the address guard (tests against 127.0.0.1, intranet deployments)."
    )
    allowed_private_hosts: list[str] = Field(
        default_factory=list,
        description="'host' or 'host:port' entries exempt from the address guard (explicit operator exceptions).",
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="If set, only these hosts may be requested — the first URL and every redirect hop; "
        "others fail with host_not_allowed (NEWSROOM_ALLOWED_HOSTS).",
    )
    per_host: int = Field(2, ge=1, description="Concurrent requests per host in get_many.")
    concurrency: int = Field(8, ge=1, description="Concurrent requests overall in get_many.")
    respect_robots: bool = Field(True, description="When False, check_robots is ignored everywhere.")
    robots_ttl_s: float = Field(3600.0, ge=0, description="How long a fetched robots.txt is trusted.")
    robots_max_bytes: int = Field(512_000, gt=0, description="robots.txt past this size is cut (RFC 9309: >= 500 KiB).")

    def host_allowed(self, host: str) -> bool:
        """True when ``host`` may be requested under :attr:`allowed_hosts` (empty: any)."""
        if not self.allowed_hosts:
            return True
        return host.lower().strip("[]") in {h.lower().strip("[]") for h in self.allowed_hosts}

    @classmethod
    def from_settings(cls, settings: "Settings", **overrides) -> "FetchPolicy":
        """The policy for a deployment: user agent, private-network switch and exemptions,
        timeouts and the body cap come from :class:`newsroom.settings.Settings`; everything
        else keeps its default unless overridden by keyword."""
        values = {
            "user_agent": settings.user_agent,
            "allow_private_networks": settings.allow_private_networks,
            "allowed_private_hosts": list(settings.allowed_private_hosts),
            "allowed_hosts": list(settings.allowed_hosts),
            "connect_timeout": settings.fetch_connect_timeout_s,
            "read_timeout": settings.fetch_read_timeout_s,
            "total_timeout": settings.fetch_total_timeout_s,
            "max_bytes": settings.fetch_max_bytes,
        }
        values.update(overrides)
        return cls(**values)
