"""The normalised text hash of an article: equal for copies that differ only in
spacing, case or Unicode form (exact-duplicate detection keys on it).

Pure and Airflow/SQL-free so the extraction workers can compute it next to the
text they extract (:mod:`newsroom.extract.page`) instead of the ingest task's
main process, where NFKC + case-folding of every article was ~1 ms of serial
CPU per page. :mod:`newsroom.warehouse.articles` re-exports it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

__all__ = ["normalised_text_hash"]

_WS = re.compile(r"\s+")


def normalised_text_hash(text: str | None) -> str | None:
    """sha256 of the text after NFKC, case-folding and whitespace collapsing:
    equal for copies that differ only in spacing, case or Unicode form."""
    if not text:
        return None
    norm = _WS.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()
