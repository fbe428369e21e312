"""Writing the Obsidian vault safely: sanitised names, atomic files.

Names come from untrusted places (entity names from a config file, beats,
article titles), so every file name goes through :func:`safe_name`: no path
separators or traversal, none of the characters Obsidian refuses in note
names (``* " \\ / < > : | ? # ^ [ ]``), no control/NUL/bidi characters, no
Windows-reserved names, and a length cap in UTF-8 bytes (file systems cap
names at 255 bytes). Every write is atomic — a temporary file in the same
folder, fsync, ``os.replace`` — so a crash or a full disk leaves the previous
note intact instead of half a note.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from pathlib import Path

FORBIDDEN = set('*"\\/<>:|?#^[]')
# Bidi embedding/override/isolate controls and marks: they can make a name or
# a line display differently from what it is ("Trojan Source").
BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
MAX_NAME_BYTES = 150  # leaves room for ".md", collision suffixes and temp-file prefixes under 255


class VaultError(OSError):
    """The vault cannot be written (folder missing and not creatable, read-only, full)."""


def strip_unsafe_chars(text: str) -> str:
    """NFC text without NUL, C0/C1 controls (except tab/newline) and bidi controls."""
    text = unicodedata.normalize("NFC", text)
    return "".join(
        ch
        for ch in text
        if ch not in BIDI and (ch in "\t\n" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co"))
    )


def _cap_bytes(text: str, limit: int) -> str:
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    return raw[:limit].decode("utf-8", errors="ignore")


def safe_name(name: str, max_bytes: int = MAX_NAME_BYTES, fallback: str = "untitled") -> str:
    """A file/note name that is safe on every OS and in Obsidian wikilinks."""
    text = strip_unsafe_chars(str(name)).replace("\t", " ").replace("\n", " ")
    text = "".join("-" if ch in FORBIDDEN else ch for ch in text)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"-{2,}", "-", text)
    text = _cap_bytes(text, max_bytes).strip()
    # Leading dots would hide the file (or be "." / ".."); trailing dots/spaces vanish on Windows.
    text = text.strip(". ").strip()
    if not text:
        return fallback
    if text.split(".")[0].upper() in WINDOWS_RESERVED:
        text = "_" + text
    return text


class Vault:
    """An Obsidian vault rooted at ``root``; every path it writes stays inside it."""

    def __init__(self, root: Path | str):
        self.root = Path(root).expanduser()

    def ensure_writable(self) -> Path:
        """Create the root if needed and prove it is writable, or raise :class:`VaultError`."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=".newsroom-probe-", dir=self.root)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise VaultError(
                f"output directory {self.root} is not writable ({exc.strerror or exc}); "
                "set NEWSROOM_OUTPUT_DIR to a writable folder"
            ) from exc
        return self.root.resolve()

    def path_for(self, folder: str | None, name: str) -> Path:
        """``root/folder/<safe name>.md``, refusing anything that would land outside the root."""
        root = self.root.resolve()
        parts = [safe_name(folder)] if folder else []
        target = (root.joinpath(*parts) / f"{safe_name(name)}.md").resolve()
        if not target.is_relative_to(root):  # pragma: no cover - safe_name already prevents it
            raise VaultError(f"refusing to write outside the vault: {target}")
        return target

    def write_note(self, folder: str | None, name: str, text: str) -> Path:
        """Atomically write a note; unchanged content is not rewritten (keeps mtimes and sync quiet)."""
        target = self.path_for(folder, name)
        data = text.encode("utf-8")
        try:
            if target.is_file() and target.read_bytes() == data:
                return target
        except OSError:
            pass
        write_atomic(target, data)
        return target


def write_atomic(target: Path, data: bytes) -> None:
    """tmp file in the same folder → fsync → ``os.replace`` → fsync the folder."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:40]}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise VaultError(f"cannot write {target}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise VaultError(f"cannot write {target}: {exc.strerror or exc}") from exc
        raise
    try:
        dfd = os.open(target.parent, os.O_RDONLY)
    except OSError:  # pragma: no cover - some platforms can't open folders
        return
    try:
        os.fsync(dfd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(dfd)
