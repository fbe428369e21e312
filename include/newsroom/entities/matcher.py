"""Find tracked entities in text in one pass, whatever the number of entities.

Every alias variant and exclusion phrase of every entity goes into one
Aho-Corasick automaton (pyahocorasick) over the lower-cased normal form of the
text (see :mod:`newsroom.entities.normalize`). One scan yields every candidate;
the rest is cheap filtering of the few hits (context cues live in a second
automaton, scanned only in documents that contain an ambiguous name):

1. **word boundaries** — a hit must not start or end inside a word; a dot or
   underscore joined to a letter/digit counts as inside a word, so "meta" does
   not fire inside "ai.meta.com" and "Claude 4" does not fire inside "Claude 4.6";
2. **case** — a case-sensitive alias ("Meta", "MSL") must match with its exact
   case, so "meta" the word is not Meta the company;
3. **exclusions** — a hit inside one of its own entity's ``exclude`` phrases
   ("meta-analysis", "Gemini horoscope") does not count;
4. **context** — an entity with ``context`` cues counts only when one of
   ``any_of`` and none of ``none_of`` is within ``window`` characters;
5. **links** — hits inside URLs quoted in the text are dropped;
6. **longest match wins** — overlapping hits are resolved longest first, so
   "Claude Opus 4.6" gives the specific model rather than "Claude", and
   "llama.cpp" the project rather than "Llama".

The automaton is built once per entities file and cached by its content hash
(:func:`matcher_for`).
"""

from __future__ import annotations

import bisect
import re
import threading
from collections import defaultdict
from dataclasses import dataclass

import ahocorasick

from newsroom.config.entities import EntitiesFile

from .normalize import NormalizedText, normalize_term, normalize_text, term_variants

ALIAS, EXCLUDE, CUE_ANY, CUE_NONE = 0, 1, 2, 3
# Links quoted in article text ("…/goodbye-llama-meta-launches-…") are not mentions.
_URL = re.compile(r"(?:[a-z][a-z0-9+.-]*://|www\.)\S+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Mention:
    """One accepted mention. ``start``/``end`` index the original text."""

    entity_id: str
    start: int
    end: int
    surface: str


def _is_word(c: str) -> bool:
    return c.isalnum() or c == "_"


def _boundary_ok(s: str, start: int, end: int) -> bool:
    """True when ``s[start:end]`` is a whole word sequence (see module doc)."""
    if start > 0:
        p = s[start - 1]
        if _is_word(p):
            return False
        if p == "." and start > 1 and s[start - 2].isalnum() and _is_word(s[start]):
            return False
    n = len(s)
    if end < n:
        c = s[end]
        if _is_word(c):
            return False
        if c == "." and end + 1 < n and s[end + 1].isalnum() and _is_word(s[end - 1]):
            return False
    return True


class Matcher:
    """The compiled entities file. ``find(text)`` returns accepted mentions."""

    def __init__(self, entities: EntitiesFile):
        self.entities = entities
        self.hash = entities.content_hash
        self.ids: list[str] = [e.id for e in entities.entities]
        self._context: dict[int, tuple[int, bool, bool]] = {}
        table: dict[str, list[tuple]] = defaultdict(list)
        cue_table: dict[str, list[tuple]] = defaultdict(list)
        for idx, e in enumerate(entities.entities):
            gated_terms = None
            if e.context is not None and e.context.applies_to:
                gated_terms = set(e.context.applies_to)
            for term, cs in e.match_terms():
                gated = e.context is not None and (gated_terms is None or term in gated_terms)
                for v in term_variants(term):
                    table[v.lower()].append((ALIAS, idx, v if cs else None, len(v), gated))
            for phrase in e.exclude:
                for v in term_variants(phrase):
                    table[v.lower()].append((EXCLUDE, idx, None, len(v), False))
            if e.context is not None:
                c = e.context
                self._context[idx] = (c.window, bool(c.any_of), bool(c.none_of))
                for kind, cues in ((CUE_ANY, c.any_of), (CUE_NONE, c.none_of)):
                    for cue in cues:
                        for v in term_variants(cue):
                            cue_table[v.lower()].append((kind, idx, None, len(v), False))
        # pyahocorasick refuses to search an empty automaton: an empty list matches nothing.
        self._automaton = _automaton(table) if table else None
        # Context cues ("AI", "model", …) are frequent words: scanning for them
        # only in the rare documents that have a gated mention keeps the main
        # scan's hits few.
        self._cue_automaton = _automaton(cue_table) if cue_table else None
        self.pattern_count = len(table) + len(cue_table)

    def find(self, text: str) -> list[Mention]:
        """Accepted mentions in ``text``, in order of position."""
        if not text or self._automaton is None:
            return []
        norm = normalize_text(text)
        spans = self._find_normal(norm)
        urls = []
        if spans and ("://" in text or "www." in text):
            urls = [(m.start(), m.end()) for m in _URL.finditer(text)]
        out = []
        for start, end, idx in spans:
            s, e = norm.span(start, end)
            if urls and any(us <= s < ue for us, ue in urls):
                continue
            out.append(Mention(self.ids[idx], s, e, text[s:e]))
        return out

    def _find_normal(self, norm: NormalizedText) -> list[tuple[int, int, int]]:
        folded, cased = norm.folded, norm.cased
        hits: list[tuple[int, int, int]] = []
        gated: set[tuple[int, int, int]] = set()
        excluded: dict[int, list[tuple[int, int]]] = {}
        cues: dict[tuple[int, int], list[int]] = {}
        n = len(folded)
        for last, payloads in self._automaton.iter(folded):
            end = last + 1
            # Most rejected hits sit inside a longer word: test that inline
            # before the full boundary rules.
            if end < n and (folded[end].isalnum() or folded[end] == "_"):
                continue
            for kind, idx, exact, length, needs_context in payloads:
                start = end - length
                if start > 0 and (folded[start - 1].isalnum() or folded[start - 1] == "_"):
                    continue
                if not _boundary_ok(folded, start, end):
                    continue
                if kind == ALIAS:
                    if exact is not None and cased[start:end] != exact:
                        continue
                    hits.append((start, end, idx))
                    if needs_context:
                        gated.add((start, end, idx))
                else:
                    excluded.setdefault(idx, []).append((start, end))
        if not hits:
            return []
        if gated and self._cue_automaton is not None:
            wanted = {h[2] for h in gated}
            for last, payloads in self._cue_automaton.iter(folded):
                end = last + 1
                for kind, idx, _exact, length, _g in payloads:
                    if idx in wanted and _boundary_ok(folded, end - length, end):
                        cues.setdefault((kind, idx), []).append(end - length)
        if excluded or gated:
            hits = [h for h in hits if self._accepted(h, excluded, cues, h in gated)]

        return _longest_first(hits)

    def _accepted(self, hit, excluded, cues, needs_context: bool) -> bool:
        start, end, idx = hit
        for xs, xe in excluded.get(idx, ()):
            if xs <= start and end <= xe:
                return False
        if not needs_context:
            return True
        ctx = self._context[idx]
        window, need_any, need_none = ctx
        if need_none and _near(cues.get((CUE_NONE, idx)), start, end, window):
            return False
        if need_any and not _near(cues.get((CUE_ANY, idx)), start, end, window):
            return False
        return True


def _automaton(table: dict[str, list[tuple]]) -> ahocorasick.Automaton:
    auto = ahocorasick.Automaton()
    for key, payloads in table.items():
        # De-duplicate identical payloads (an alias listed twice, say).
        auto.add_word(key, tuple(dict.fromkeys(payloads)))
    auto.make_automaton()
    return auto


def _near(positions: list[int] | None, start: int, end: int, window: int) -> bool:
    if not positions:
        return False
    # Positions are appended in scan order of their *end*, close to sorted.
    positions.sort()
    i = bisect.bisect_left(positions, start - window)
    while i < len(positions) and positions[i] <= end + window:
        if not (start <= positions[i] < end):  # the mention itself is not its own cue
            return True
        i += 1
    return False


def _longest_first(hits: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Non-overlapping hits, longest first (ties: leftmost), returned by position."""
    hits.sort(key=lambda h: (h[0] - h[1], h[0]))
    taken_starts: list[int] = []
    taken: list[tuple[int, int, int]] = []
    for h in hits:
        s, e, _ = h
        i = bisect.bisect_right(taken_starts, s)
        if i > 0 and taken[i - 1][1] > s:
            continue
        if i < len(taken) and taken[i][0] < e:
            continue
        taken_starts.insert(i, s)
        taken.insert(i, h)
    return taken


_cache: dict[str, Matcher] = {}
_cache_lock = threading.Lock()
_CACHE_SIZE = 4


def matcher_for(entities: EntitiesFile) -> Matcher:
    """The compiled matcher for an entities file, built once per content hash."""
    key = entities.content_hash
    with _cache_lock:
        m = _cache.get(key)
        if m is not None:
            return m
    m = Matcher(entities)
    with _cache_lock:
        if len(_cache) >= _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[key] = m
    return m


__all__ = ["Matcher", "Mention", "matcher_for", "normalize_term"]
