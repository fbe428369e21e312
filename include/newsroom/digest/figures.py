"""Key figures: numbers with units, money and percentages next to tracked entities.

"$14.3 billion", "49%", "52 on the Artificial Analysis Intelligence Index
v4.0" are what a reader wants pulled out of five articles. A figure is kept
when it sits in a sentence that names one of the story's entities (when the
story has any), and figures repeated by several sources rank first — a
number five outlets agree on is more likely to be the headline number than
one an article mentions in passing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .text import normalise, prose, split_sentences, strip_citations, tokens

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_SCALE = r"trillion|billion|million|thousand|bn|tn|mn|[kKmMbB](?![a-zA-Z])"
_UNIT = (
    r"parameters|params|tokens|GPUs?|TPUs?|users|downloads|employees|customers|subscribers|developers|"
    r"physicians|doctors|languages|countries|queries|requests|[KMGTP]B|[KMGT]Hz|[MG]W|MWh|GWh|TFLOPS|"
    r"PFLOPS|FLOPs?|tokens/s|tok/s|ms|seconds|hours|days|weeks|months|x|times|fold|stars|points"
)
_BENCH_WORD = re.compile(r"index|bench|benchmark|leaderboard|arena|eval|exam|test|diamond|verified|agi|score", re.I)
_NAME = r"(?:[A-Z0-9][\w.\-]*|v\d[\d.]*)(?: (?:[A-Z0-9][\w.\-]*|v\d[\d.]*)){0,7}"

PATTERNS: list[tuple[str, re.Pattern]] = [
    ("money", re.compile(rf"(?:US|C|A)?[$€£¥]\s?(?:{_NUM})(?:\s?(?:{_SCALE}))?\b", re.I)),
    ("percent", re.compile(rf"(?<![\w.])(?:{_NUM})\s?(?:%|percent\b|per cent\b|percentage points?\b)", re.I)),
    ("score", re.compile(rf"(?<![\w.$€£])(?P<n>{_NUM}) on (?:the )?(?P<name>{_NAME})")),
    ("score", re.compile(rf"on (?:the )?(?P<name>{_NAME}) (?:with|at) a (?:score|rating) of (?P<n>{_NUM})")),
    (
        "quantity",
        re.compile(rf"(?<![\w.$€£])(?:{_NUM})(?:\s?(?:{_SCALE}))?[\s-]?(?:{_UNIT})\b"),
    ),
]
_MONTHS = re.compile(r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s*$", re.I)


@dataclass
class KeyFigure:
    """One figure, its context, the entity it sits next to and where it was found."""

    value: str
    kind: str
    context: str
    entity_id: str | None = None
    entity_name: str | None = None
    article_ids: list[int] = field(default_factory=list)
    also: list[str] = field(default_factory=list)  # other figures of the same sentence ("for a 49% stake")

    def as_dict(self) -> dict:
        return {
            "value": self.value,
            "also": self.also,
            "kind": self.kind,
            "context": self.context,
            "entity_id": self.entity_id,
            "entity_name": self.entity_name,
            "article_ids": self.article_ids,
        }


@dataclass
class EntityForms:
    """An entity and the surface forms to look for (name and aliases)."""

    id: str
    name: str
    forms: Sequence[str]


def figure_key(value: str) -> str:
    """Normalised identity of a figure: "49 percent" == "49%", "$14.3 bn" == "$14.3 billion"."""
    v = value.lower().replace(",", "")
    v = re.sub(r"\s*(percent|per cent)\b", "%", v)
    v = re.sub(r"\b(bn)\b", "billion", v)
    v = re.sub(r"\b(tn)\b", "trillion", v)
    v = re.sub(r"\b(mn)\b", "million", v)
    v = re.sub(r"\bthe\b", "", v)
    v = re.sub(r"\s+v\d[\d.]*$", "", v)  # "… Index v4.0" is the same figure as "… Index"
    return re.sub(r"\s+", "", v)


def _entity_spans(sentence: str, entities: Sequence[EntityForms]) -> list[tuple[int, EntityForms]]:
    spans = []
    low = sentence.lower()
    for ent in entities:
        for form in ent.forms:
            f = form.strip()
            if len(f) < 2:
                continue
            for m in re.finditer(rf"(?<!\w){re.escape(f.lower())}(?!\w)", low):
                spans.append((m.start(), ent))
    return spans


def _context(sentence: str, start: int, end: int, width: int = 90) -> str:
    lo = max(0, start - width)
    hi = min(len(sentence), end + width)
    if lo > 0:
        lo = sentence.find(" ", lo) + 1 or lo
    if hi < len(sentence):
        cut = sentence.rfind(" ", end, hi)
        hi = cut if cut > end else hi
    text = sentence[lo:hi].strip(" ,;:")
    return ("…" if lo > 0 else "") + text + ("…" if hi < len(sentence) else "")


def find_figures(sentence: str) -> list[tuple[str, str, int, int]]:
    """``(value, kind, start, end)`` of every figure in one sentence, longest match first, no overlaps."""
    found: list[tuple[str, str, int, int]] = []
    for kind, pat in PATTERNS:
        for m in pat.finditer(sentence):
            if kind == "score":
                name = m.group("name").rstrip(".")
                if not _BENCH_WORD.search(name) or _MONTHS.search(sentence[: m.start("n")]):
                    continue
                value = f"{m.group('n')} on the {name}" if not name.lower().startswith("the ") else f"{m.group('n')} on {name}"
            else:
                value = m.group(0).strip()
                if kind == "quantity" and _MONTHS.search(sentence[: m.start()]):
                    continue
            found.append((value, kind, m.start(), m.end()))
    found.sort(key=lambda f: (f[2], -(f[3] - f[2])))
    kept: list[tuple[str, str, int, int]] = []
    for f in found:
        if any(f[2] < k[3] and k[2] < f[3] for k in kept):
            continue
        kept.append(f)
    return kept


def key_figures(
    documents: Iterable[tuple[int, str]],
    entities: Sequence[EntityForms] = (),
    limit: int = 5,
) -> list[KeyFigure]:
    """The story's key figures across its articles ``(article_id, text)``, best first."""
    by_key: dict[str, KeyFigure] = {}
    order: dict[str, tuple] = {}
    sentences: dict[str, set[str]] = {}  # figure → the sentences it was found in
    for doc_index, (article_id, text) in enumerate(documents):
        for s_index, raw in enumerate(split_sentences(prose(text or ""))):
            sentence = strip_citations(raw)
            if len(sentence) > 600:
                continue
            figs = find_figures(sentence)
            if not figs:
                continue
            spans = _entity_spans(sentence, entities) if entities else []
            for value, kind, start, end in figs:
                ent = None
                dist = 0
                if entities:
                    if not spans:
                        continue
                    dist, ent = min(((abs(pos - start), e) for pos, e in spans), key=lambda x: (x[0], x[1].id))
                key = figure_key(value)
                fig = by_key.get(key)
                if fig is None:
                    fig = KeyFigure(
                        value=normalise(value),
                        kind=kind,
                        context=_context(sentence, start, end),
                        entity_id=ent.id if ent else None,
                        entity_name=ent.name if ent else None,
                    )
                    by_key[key] = fig
                    order[key] = (dist, doc_index, s_index, start)
                if article_id not in fig.article_ids:
                    fig.article_ids.append(article_id)
                sentences.setdefault(key, set()).add(" ".join(tokens(sentence)))
    # Corroborated first; money, shares and scores before plain quantities; then nearest an entity.
    ranked = sorted(
        by_key, key=lambda k: (-len(by_key[k].article_ids), by_key[k].kind == "quantity", order[k])
    )
    # One figure per sentence: "downloaded 8,712,721 times, … 5,884,443 times" is one fact, shown once.
    # Figures sharing a sentence go together on one line, attached to what that sentence says.
    kept: list[KeyFigure] = []
    owner: dict[str, KeyFigure] = {}  # sentence → the kept figure that shows it
    for k in ranked:
        host = next((owner[s] for s in sorted(sentences[k]) if s in owner), None)
        if host is not None:
            if by_key[k].value not in host.also:
                host.also.append(by_key[k].value)
            continue
        for s in sentences[k]:
            owner[s] = by_key[k]
        kept.append(by_key[k])
        if len(kept) >= limit:
            break
    return kept
