"""GitHub REST: a repository's stars, forks, open issues, watchers, last push and latest release.

``GET /repos/{owner}/{repo}``: ``stargazers_count`` is the star count (``watchers_count`` is the
same number, a leftover of the old API), ``subscribers_count`` the watchers. A renamed or
transferred repository answers 301 to its new location; the fetcher follows it and the
subject becomes the ``full_name`` the repository now has (the entities file keeps working,
and the rows say where the figures came from). ``GET /repos/{owner}/{repo}/releases/latest``:
``tag_name`` and ``published_at``; 404 means the repository has no (non-draft, non-prerelease)
release, recorded as ``absent``.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from newsroom.metrics.client import ApiReply, ApiSession
from newsroom.metrics.records import FigureSource, Observation

REPO_METRICS = ("stars", "forks", "open_issues", "watchers", "pushed_at")
RELEASE_METRICS = ("latest_release", "latest_release_at")
#: "no releases" is asked again after this many days (a 404 has no ETag: asking daily costs quota)
RELEASE_RECHECK_DAYS = 7


class GitHubRepo(BaseModel):
    model_config = ConfigDict(extra="ignore")

    full_name: str = Field(pattern=r"^[^/\s]+/[^/\s]+$")
    stargazers_count: int = Field(ge=0)
    forks_count: int = Field(ge=0)
    open_issues_count: int = Field(ge=0)
    subscribers_count: int | None = Field(default=None, ge=0)
    pushed_at: str | None = None


class GitHubRelease(BaseModel):
    model_config = ConfigDict(extra="ignore")

    tag_name: str
    published_at: str | None = None


def repo_path(subject: str) -> str:
    owner, repo = subject.split("/", 1)
    return f"/repos/{quote(owner, safe='')}/{quote(repo, safe='')}"


def failed(src: FigureSource, subject: str, url: str, metrics, reason: str, status: str = "failed") -> list[Observation]:
    return [Observation(src.entity_id, src.service, subject, m, status, src.link, url, reason=reason)
            for m in metrics]


def invalid(exc: ValidationError) -> str:
    fields = sorted({".".join(map(str, e["loc"])) or "(body)" for e in exc.errors()})
    return f"invalid_response: unexpected {', '.join(fields)}"


def collect(session: ApiSession, src: FigureSource) -> Iterator[Observation]:
    url = session.endpoint.url(repo_path(src.subject))
    reply = session.get_json(url)
    if reply.status == "failed":
        reason = reply.reason or "failed"
        if reply.http_status == 404:
            reason = f"not_found: no repository {src.subject} ({reply.reason})"
        yield from failed(src, src.subject, url, (*REPO_METRICS, *RELEASE_METRICS), reason)
        return
    try:
        repo = GitHubRepo.model_validate(reply.data)
    except ValidationError as exc:
        yield from failed(src, src.subject, url, (*REPO_METRICS, *RELEASE_METRICS), invalid(exc))
        return
    moved = repo.full_name.lower() != src.subject.lower()
    note = f"moved from {src.subject}" if moved else None
    status = reply.status
    values = {"stars": repo.stargazers_count, "forks": repo.forks_count, "open_issues": repo.open_issues_count,
              "watchers": repo.subscribers_count}
    for metric, value in values.items():
        if value is None:
            yield Observation(src.entity_id, src.service, repo.full_name, metric, "absent", src.link, url,
                              reason="not in the response")
        else:
            yield Observation(src.entity_id, src.service, repo.full_name, metric, status, src.link, url,
                              value=value, reason=note)
    yield Observation(src.entity_id, src.service, repo.full_name, "pushed_at", status if repo.pushed_at else "absent",
                      src.link, url, value_text=repo.pushed_at, reason=note)
    yield from _release(session, src, repo.full_name)


def _release(session: ApiSession, src: FigureSource, subject: str) -> Iterator[Observation]:
    url = session.endpoint.url(repo_path(subject) + "/releases/latest")
    reply: ApiReply = session.get_json(url, recheck_days=RELEASE_RECHECK_DAYS, today=session.today)
    if reply.status == "failed":
        if reply.http_status == 404:
            yield from failed(src, subject, url, RELEASE_METRICS, f"no releases ({reply.reason})", status="absent")
        else:
            yield from failed(src, subject, url, RELEASE_METRICS, reply.reason or "failed")
        return
    try:
        rel = GitHubRelease.model_validate(reply.data)
    except ValidationError as exc:
        yield from failed(src, subject, url, RELEASE_METRICS, invalid(exc))
        return
    yield Observation(src.entity_id, src.service, subject, "latest_release", reply.status, src.link, url,
                      value_text=rel.tag_name)
    yield Observation(src.entity_id, src.service, subject, "latest_release_at",
                      reply.status if rel.published_at else "absent", src.link, url, value_text=rel.published_at)
