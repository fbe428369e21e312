"""Open a vault the way Obsidian does and list the wikilinks that resolve to no note.

Obsidian resolves ``[[Target]]`` / ``[[Target|alias]]`` / ``[[Target#Heading]]`` by note
name (file stem), case-insensitively, anywhere in the vault. Escaped brackets (``\\[\\[``) and
code are not links. Used by the tests and ``benchmarks/digest_quality.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

_WIKILINK = re.compile(r"(?<![\\!])\[\[([^\[\]|#\n]+)(?:#[^\[\]|\n]*)?(?:\|[^\[\]\n]*)?\]\]")


def wikilinks(markdown: str) -> Iterator[str]:
    """Targets of the live wikilinks in ``markdown`` (front matter and code spans skipped)."""
    body = markdown.split("\n---\n", 1)[1] if markdown.startswith("---\n") and "\n---\n" in markdown else markdown
    body = re.sub(r"`[^`\n]*`", "", body)
    for m in _WIKILINK.finditer(body):
        yield m.group(1).strip()


def unresolved_links(vault: Path) -> list[tuple[str, str]]:
    """(note, target) for every wikilink in the vault that names no note, in file order."""
    notes = sorted(Path(vault).rglob("*.md"))
    names = {p.stem.casefold() for p in notes}
    out = []
    for p in notes:
        for target in wikilinks(p.read_text(encoding="utf-8")):
            if target.casefold() not in names:
                out.append((str(p.relative_to(vault)), target))
    return out


def link_count(vault: Path) -> int:
    return sum(sum(1 for _ in wikilinks(p.read_text(encoding="utf-8"))) for p in Path(vault).rglob("*.md"))
