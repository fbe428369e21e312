"""Same story: weighted term vectors and the pairwise story similarity.

Outlets covering one event use different words but the same *rare* ones: the
names, products and places of the event ("Muse Spark", "Superintelligence
Labs", "Alexandr Wang"). A TF-IDF-like weighting finds them. The IDF part does
not come from the archive (which would make a pair's score depend on what else
had been ingested, and so on the order of runs; and a burst of coverage would
make the story's own names look common): it comes from wordfreq's fixed,
multilingual word-frequency tables. ``weight = (1 + ln tf) * (CEILING - zipf)``
where ``zipf`` is log10 of the word's frequency per billion words, so "the"
(7.7) weighs ~0 and an unknown name (0) weighs most. The similarity of two
articles depends on those two articles only, so it is the same whichever was
processed first.

Each article keeps its top ``VECTOR_TERMS`` terms (L2-normalised) for scoring,
and its top ``INDEX_TERMS`` terms go to an inverted index (``article_terms``)
used to find candidate neighbours within the time window.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache

from wordfreq import zipf_frequency

from .text import words

VECTOR_TERMS = 64
INDEX_TERMS = 12
CEILING = 7.5  # zipf above this (the, de, and…) weighs nothing
STOP_ZIPF = 6.2  # such common words are dropped outright
MAX_TERM_LEN = 64
MIN_SHARED_INDEX_TERMS = 2
LANGS = ("en",)

# Pair score = max(body, TITLE_MIX*title + (1-TITLE_MIX)*body) + entity bonus, scaled by time.
TITLE_MIX = 0.4
ENTITY_WEIGHT = 0.15
TIME_PENALTY = 0.2  # score lost at the edge of the window
MIN_BODY_FOR_TITLE = 0.2  # similar titles alone (a site's name in every <title>) link nothing
STORY_THRESHOLD = 0.35
# Two pages of one site share its boilerplate (author bios, recurring names, the
# site's own name), which inflates their similarity: they need stronger evidence.
SAME_OUTLET_THRESHOLD = 0.45


def story_threshold(outlet_a: str | None, outlet_b: str | None) -> float:
    """The score two articles need to be linked into one story."""
    if outlet_a and outlet_b and outlet_a.casefold() == outlet_b.casefold():
        return SAME_OUTLET_THRESHOLD
    return STORY_THRESHOLD


@lru_cache(maxsize=100_000)
def _zipf(term: str, lang: str) -> float:
    z = zipf_frequency(term, "en")
    if lang and lang != "en":
        try:
            z = max(z, zipf_frequency(term, lang))
        except Exception:  # language wordfreq doesn't know: English table only
            pass
    return z


@lru_cache(maxsize=100_000)
def term_weight(term: str, lang: str = "en") -> float:
    """How much a shared ``term`` says two texts are about the same thing."""
    if len(term) < 2 or len(term) > MAX_TERM_LEN:
        return 0.0
    z = _zipf(term, lang)
    if z >= STOP_ZIPF:
        return 0.0
    return max(0.0, CEILING - z)


def _lang(language: str | None) -> str:
    return (language or "en").split("-")[0].split("_")[0].lower() or "en"


def term_vector(text: str | None, language: str | None = None, limit: int = VECTOR_TERMS,
                tokens: list[str] | None = None) -> dict[str, float]:
    """Top ``limit`` terms of ``text`` (or of ``tokens`` when given, already from
    :func:`~newsroom.dedup.text.words`) with L2-normalised weights (ties broken by term, so deterministic)."""
    lang = _lang(language)
    counts = Counter(tokens if tokens is not None else words(text))
    weighted = {}
    for t, n in counts.items():
        w = term_weight(t, lang)
        if w > 0:
            weighted[t] = (1.0 + math.log(n)) * w
    top = sorted(weighted.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    norm = math.sqrt(sum(w * w for _, w in top)) or 1.0
    return {t: round(w / norm, 6) for t, w in top}


_TITLE_SEPARATORS = re.compile(r"\s+(?:\||-|–|—|::|·|•)\s+")


def headline(title: str | None) -> str | None:
    """The title without the site-name segment pages append ("Story title | Site Name")."""
    if not title:
        return title
    parts = _TITLE_SEPARATORS.split(title.strip())
    while len(parts) > 1 and len(parts[-1].split()) <= 4 and len(parts[-1]) < len(" ".join(parts[:-1])):
        parts = parts[:-1]
    return " - ".join(parts)


def index_terms(vector: dict[str, float], limit: int = INDEX_TERMS) -> list[str]:
    """The terms an article is found by: its strongest ones."""
    return [t for t, _ in sorted(vector.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    """Dot product of two L2-normalised vectors, with ``math.fsum`` (correctly
    rounded, so independent of summation order): ``cosine(a, b) == cosine(b, a)``
    bit for bit. A plain ``sum`` in either dict's order is not associative and
    could put a pair on different sides of a threshold depending on which
    article came first."""
    if len(a) > len(b):
        a, b = b, a
    return math.fsum(w * b[t] for t, w in a.items() if t in b)


def weighted_jaccard(a: dict[str, float], b: dict[str, float]) -> float:
    keys = a.keys() | b.keys()  # set order varies with PYTHONHASHSEED: fsum makes it irrelevant
    num = math.fsum(min(a.get(k, 0.0), b.get(k, 0.0)) for k in keys)
    den = math.fsum(max(a.get(k, 0.0), b.get(k, 0.0)) for k in keys)
    return num / den if den else 0.0


def story_similarity(
    body_a: dict[str, float], title_a: dict[str, float], body_b: dict[str, float], title_b: dict[str, float],
    hours_apart: float, window_hours: float,
    entities_a: dict[str, float] | None = None, entities_b: dict[str, float] | None = None,
) -> float:
    """How likely two articles cover the same event, 0 outside the window.

    Symmetric and a function of the two articles only (see module doc). The title
    can only raise the score (some outlets' titles are generic: "Model release"),
    and only when the texts already have something in common.
    Shared tracked entities add evidence when both articles have been tagged.
    """
    if hours_apart > window_hours:
        return 0.0
    body = cosine(body_a, body_b)
    score = body
    if title_a and title_b and body >= MIN_BODY_FOR_TITLE:
        score = max(score, TITLE_MIX * cosine(title_a, title_b) + (1 - TITLE_MIX) * body)
    if entities_a and entities_b:
        score += ENTITY_WEIGHT * weighted_jaccard(entities_a, entities_b)
    score *= 1.0 - TIME_PENALTY * (hours_apart / window_hours if window_hours else 0.0)
    return round(score, 6)
