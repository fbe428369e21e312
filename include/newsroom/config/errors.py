"""Configuration errors that name the file, the entry and the field."""

from __future__ import annotations

from pathlib import Path

from pydantic import AnyHttpUrl, TypeAdapter, ValidationError


class ConfigError(ValueError):
    """A sources or entities file is unusable. The message says where and why."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path = str(path)
        self.problems = problems
        super().__init__(f"{self.path}: " + "; ".join(problems))


def _entry_label(data: object, loc: tuple) -> str:
    """Turn a pydantic error location into ``feeds[3] 'The Verge AI' → url``."""
    parts: list[str] = []
    node = data
    for i, key in enumerate(loc):
        if isinstance(key, int) and isinstance(node, list) and 0 <= key < len(node):
            node = node[key]
            label = ""
            if isinstance(node, dict):
                name = node.get("name") or node.get("id")
                if name is not None:
                    label = f" {str(name)!r}"
            parts[-1] = f"{parts[-1] if parts else ''}[{key}]{label}"
            continue
        parts.append(str(key))
        node = node.get(key) if isinstance(node, dict) else None
    return " → ".join(parts) if parts else "(top level)"


def from_validation_error(path: Path | str, data: object, err: ValidationError) -> ConfigError:
    problems = []
    for e in err.errors():
        problems.append(f"{_entry_label(data, tuple(e['loc']))}: {e['msg']}")
    return ConfigError(path, problems)


def load_yaml(path: Path | str) -> object:
    """Read a YAML file safely (no Python tags), with errors that name the file and line."""
    import yaml

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(p, ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(p, [f"cannot read file: {exc}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(p, [f"{where}invalid YAML: {getattr(exc, 'problem', exc)}"]) from None
    if data is None or data == {} or data == []:
        # An empty file is almost always a mistake (a truncated copy, the wrong path
        # mounted): running on defaults would silently fetch or tag nothing.
        raise ConfigError(p, ["(top level): the file is empty"])
    return data


def check_http_url(v: str) -> str:
    """An absolute http(s) URL with a valid host, else ``ValueError`` with the reason.

    Parsed by pydantic's URL type (the WHATWG URL standard, as browsers parse), which
    rejects what a prefix test lets through: ``http://`` (no host),
    ``http://exa mple.com/feed.xml`` (a space in the host). The string is returned as
    written (stripped), not normalised, because it is the source's identity in the
    warehouse.
    """
    v = v.strip()
    scheme, sep, rest = v.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        raise ValueError("must be an http:// or https:// URL")
    if any(c.isspace() for c in v):
        raise ValueError("must not contain spaces (a space in a path is written %20)")
    try:
        url = _HTTP_URL.validate_python(v)
    except ValidationError as exc:
        why = exc.errors()[0]["msg"].removeprefix("Input should be a valid URL, ")
        raise ValueError(f"not a valid URL: {why}") from None
    if not url.host:
        raise ValueError("URL has no host")
    return v


_HTTP_URL = TypeAdapter(AnyHttpUrl)
