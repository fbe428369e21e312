"""Entity links → figure sources.

    github: https://github.com/FoundationAgents/MetaGPT     (or OWNER/REPO)
    huggingface: https://huggingface.co/meta-llama          (an organisation: its top models)
    huggingface: https://huggingface.co/meta-llama/Llama-3.1-8B-Instruct   (or the bare model id)
    pypi: metaflow                                           (or https://pypi.org/project/metaflow/)

Each may be one value or a list. A link that cannot be read is reported with the entity and
the value (:class:`LinkProblem`) and skipped; the others still count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from newsroom.metrics.records import FigureSource

__all__ = ["LinkProblem", "figure_sources", "normalise_package"]

_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}"
_REPO = re.compile(rf"^({_NAME})/({_NAME})$")
_PACKAGE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
# huggingface.co paths that are not organisations or models
_HF_RESERVED = {"datasets", "spaces", "docs", "blog", "papers", "models", "api", "collections", "settings", "join"}


@dataclass(frozen=True)
class LinkProblem:
    entity_id: str
    service: str
    link: str
    problem: str

    def __str__(self) -> str:
        return f"entity {self.entity_id!r} → links.{self.service}: {self.link!r}: {self.problem}"


def normalise_package(name: str) -> str:
    """PEP 503 normal form, as pypistats keys packages (``.`` and ``_`` become ``-``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _values(v) -> list[str]:
    if v is None:
        return []
    return [str(x).strip() for x in (v if isinstance(v, list) else [v]) if str(x).strip()]


def _path_parts(link: str, hosts: tuple[str, ...]) -> list[str] | None:
    if "://" not in link:
        return [p for p in link.strip("/").split("/") if p]
    u = urlsplit(link)
    if u.scheme not in ("http", "https") or (u.hostname or "").lower() not in hosts:
        return None
    return [p for p in u.path.strip("/").split("/") if p]


def _github(entity_id: str, link: str) -> FigureSource | LinkProblem:
    parts = _path_parts(link, ("github.com", "www.github.com"))
    if parts is None:
        return LinkProblem(entity_id, "github", link, "not a github.com URL")
    if len(parts) < 2 or not _REPO.match(f"{parts[0]}/{parts[1]}"):
        return LinkProblem(entity_id, "github", link, "expected https://github.com/OWNER/REPO")
    repo = parts[1][:-4] if parts[1].endswith(".git") else parts[1]
    return FigureSource(entity_id, "github", "repo", f"{parts[0]}/{repo}", link)


def _huggingface(entity_id: str, link: str) -> FigureSource | LinkProblem:
    parts = _path_parts(link, ("huggingface.co", "www.huggingface.co", "hf.co"))
    if parts is None:
        return LinkProblem(entity_id, "huggingface", link, "not a huggingface.co URL")
    if not parts or parts[0] in _HF_RESERVED or not all(re.match(rf"^{_NAME}$", p) for p in parts[:2]):
        return LinkProblem(entity_id, "huggingface", link, "expected an organisation or a model id (ORG/MODEL)")
    if len(parts) == 1:
        return FigureSource(entity_id, "huggingface", "org", parts[0], link)
    return FigureSource(entity_id, "huggingface", "model", f"{parts[0]}/{parts[1]}", link)


def _pypi(entity_id: str, link: str) -> FigureSource | LinkProblem:
    name = link
    if "://" in link:
        parts = _path_parts(link, ("pypi.org", "www.pypi.org"))
        if parts is None or len(parts) < 2 or parts[0] != "project":
            return LinkProblem(entity_id, "pypi", link, "expected a package name or https://pypi.org/project/NAME")
        name = parts[1]
    if not _PACKAGE.match(name):
        return LinkProblem(entity_id, "pypi", link, "not a valid package name")
    return FigureSource(entity_id, "pypistats", "package", normalise_package(name), link)


_PARSERS = {"github": _github, "huggingface": _huggingface, "pypi": _pypi}


def figure_sources(entities) -> tuple[list[FigureSource], list[LinkProblem]]:
    """Every figure source of an entities file (``EntitiesFile`` or a list of entities), in a
    stable order (entity id, service, subject), with the links that could not be read."""
    sources: dict[tuple, FigureSource] = {}
    problems: list[LinkProblem] = []
    for e in getattr(entities, "entities", entities):
        links = e.links if isinstance(e.links, dict) else e.links.model_dump()
        for key, parse in _PARSERS.items():
            for link in _values(links.get(key)):
                got = parse(e.id, link)
                if isinstance(got, LinkProblem):
                    problems.append(got)
                else:
                    sources.setdefault((got.entity_id, got.service, got.kind, got.subject.lower()), got)
    return sorted(sources.values(), key=lambda s: (s.service, s.entity_id, s.kind, s.subject.lower())), problems
