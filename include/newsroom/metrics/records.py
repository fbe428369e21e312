"""Typed records that cross the metrics stage's boundaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Service = Literal["github", "huggingface", "pypistats"]
SERVICES: tuple[Service, ...] = ("github", "huggingface", "pypistats")
#: ok = read today; unchanged = 304, values of the stored response; absent = the API says the
#: figure does not exist (a repository without releases); failed = see ``reason``.
Status = Literal["ok", "unchanged", "absent", "failed"]

DEFAULT_BASE_URLS: dict[str, str] = {
    "github": "https://api.github.com",
    "huggingface": "https://huggingface.co",
    "pypistats": "https://pypistats.org",
}


@dataclass(frozen=True)
class ApiEndpoint:
    """Where one service is reached and with which token (from its Airflow Connection)."""

    service: Service
    base_url: str
    token: str | None = field(default=None, repr=False)

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path


@dataclass(frozen=True)
class FigureSource:
    """One link of one entity: ``kind`` is ``repo`` (GitHub), ``model`` / ``org`` (Hugging Face)
    or ``package`` (PyPI); ``subject`` the repository, model id, organisation or package name."""

    entity_id: str
    service: Service
    kind: str
    subject: str
    link: str  # the link as written in the entities file


@dataclass
class Observation:
    """One figure of one subject on one day (or why it could not be read)."""

    entity_id: str
    service: str
    subject: str
    metric: str
    status: Status
    link: str
    source_url: str
    value: int | None = None
    value_text: str | None = None
    reason: str | None = None

    def row(self, day, observed_at) -> dict:
        return {"entity_id": self.entity_id, "service": self.service, "subject": self.subject[:300],
                "metric": self.metric, "day": day, "value": self.value,
                "value_text": self.value_text[:500] if self.value_text else self.value_text,
                "status": self.status, "reason": self.reason[:2000] if self.reason else self.reason,
                "link": self.link[:2000], "source_url": self.source_url[:4000], "observed_at": observed_at}


from newsroom.warehouse.metrics import StoredResponse  # noqa: E402,F401  (re-exported; defined beside its one reader and writer)
