"""Deterministic extractive multi-document summaries.

For a story told by several outlets, the sentences worth reading are the
ones the *other* sources agree with: each candidate sentence is scored by
its best TF-IDF cosine match in every other article (cross-source support,
a LexRank-style centrality restricted to other documents so one long
article cannot vote for itself), plus a small bonus for leading sentences
and for naming the story's entities. Sentences are then taken greedily,
skipping near-repeats, until a sentence or character budget is reached.
Same input, same summary: no randomness, ties broken by article and position.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .text import normalise, prose, split_sentences, strip_citations, tokens

BOILERPLATE = re.compile(
    r"(was this article helpful|let us know|related articles|sign up|subscribe|newsletter|"
    r"all rights reserved|click here|read more|cookie|advertisement|min read|loading\.\.\.)",
    re.I,
)


DANGLING = re.compile(r"(it|this|that|these|those|they|he|she|but|and|however|also|still)\b", re.I)


@dataclass
class SourceText:
    """One article of a story, as the summariser sees it."""

    article_id: int
    title: str | None
    text: str | None
    description: str | None = None


@dataclass
class Summary:
    sentences: list[str] = field(default_factory=list)
    article_ids: list[int] = field(default_factory=list)  # source article of each sentence
    support: list[list[int]] = field(default_factory=list)  # per sentence: every article saying it
    method: str = "extractive"

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


@dataclass
class _Candidate:
    doc: int
    pos: int
    article_id: int
    text: str
    toks: list[str]


def _candidates(sources: Sequence[SourceText], max_per_doc: int = 60) -> list[_Candidate]:
    out: list[_Candidate] = []
    for d, src in enumerate(sources):
        body = prose(src.text or src.description or "")
        seen = 0
        for s in split_sentences(body):
            s = strip_citations(s)
            words = s.split()
            if not (6 <= len(words) <= 70) or len(s) > 450 or s.endswith(":") or BOILERPLATE.search(s):
                continue
            if s.count("|") > 1 or not re.search(r"[.!?\"”’)]$", s):
                continue  # tables, headings, captions
            toks = tokens(s)
            if len(toks) < 4:
                continue
            out.append(_Candidate(d, seen, src.article_id, s, toks))
            seen += 1
            if seen >= max_per_doc:
                break
    return out


def _tfidf(cands: Sequence[_Candidate]) -> np.ndarray:
    vocab: dict[str, int] = {}
    df: Counter[str] = Counter()
    for c in cands:
        df.update(set(c.toks))
    for w in sorted(df):
        vocab[w] = len(vocab)
    n = len(cands)
    mat = np.zeros((n, len(vocab)), dtype=np.float64)
    for i, c in enumerate(cands):
        for w, tf in Counter(c.toks).items():
            mat[i, vocab[w]] = (1 + math.log(tf)) * (math.log((1 + n) / (1 + df[w])) + 1)
    norms = np.linalg.norm(mat, axis=1, keepdims=True)
    norms[norms == 0] = 1
    return mat / norms


def _jaccard(a: Sequence[str], b: Sequence[str]) -> float:
    sa, sb = set(a), set(b)
    return len(sa & sb) / max(1, len(sa | sb))


def extractive_summary(
    sources: Sequence[SourceText],
    entity_names: Sequence[str] = (),
    max_sentences: int = 3,
    max_chars: int = 600,
    redundancy: float = 0.5,
    diversity: float = 0.7,
    support_threshold: float = 0.6,
) -> Summary:
    """The most central, non-repeating sentences across ``sources``, within the budgets."""
    cands = _candidates(sources)
    if not cands:
        # Nothing usable in the bodies: fall back to the best description, then the title.
        for src in sources:
            if src.description and len(src.description.split()) >= 5:
                return Summary([_cut(normalise(prose(src.description)).strip(), max_chars)], [src.article_id],
                               [[src.article_id]])
        return Summary()
    vecs = _tfidf(cands)
    sim = vecs @ vecs.T
    docs = np.array([c.doc for c in cands])
    n_docs = len(set(docs.tolist()))
    names = [n.lower() for n in entity_names if n and len(n) > 1]
    scores = []
    for i, c in enumerate(cands):
        if n_docs > 1:
            support = [sim[i, docs == d].max() for d in sorted(set(docs.tolist())) if d != c.doc]
            centrality = float(np.mean(support))
        else:
            others = np.delete(sim[i], i)
            centrality = float(others.mean()) if len(others) else 0.0
        lead = 0.15 if c.pos == 0 else 0.08 if c.pos < 3 else 0.0
        if DANGLING.match(c.text):
            lead -= 0.15  # "It …", "However, …": needs the sentence before it
        low = c.text.lower()
        ent = min(0.1, 0.04 * sum(1 for n in names if n in low))
        scores.append(centrality + lead + ent)
    # Maximal marginal relevance: every outlet's lead says "X launched Y", so after the
    # first pick, a sentence must add something the chosen ones don't already say.
    remaining = sorted(range(len(cands)), key=lambda i: (-round(scores[i], 9), cands[i].doc, cands[i].pos))
    chosen: list[int] = []
    total = 0
    while remaining and len(chosen) < max_sentences:
        best, best_val = None, None
        for i in remaining:
            overlap = max((float(sim[i, j]) for j in chosen), default=0.0)
            if overlap > redundancy or any(_jaccard(cands[i].toks, cands[j].toks) > redundancy for j in chosen):
                continue
            length = len(cands[i].text) + (1 if chosen else 0)
            if chosen and total + length > max_chars:
                continue
            val = round(scores[i] - diversity * overlap, 9)
            if best_val is None or val > best_val:
                best, best_val = i, val
        if best is None:
            break
        chosen.append(best)
        total += len(cands[best].text) + (1 if len(chosen) > 1 else 0)
        remaining.remove(best)
    sentences = [_cut(cands[i].text, max_chars) for i in chosen]
    # a sentence near-repeated by other sources is said once and credited to all of them
    support = []
    for i in chosen:
        ids = [cands[i].article_id]
        for j, c in enumerate(cands):
            if c.article_id not in ids and (float(sim[i, j]) >= support_threshold
                                            or _jaccard(cands[i].toks, c.toks) >= support_threshold):
                ids.append(c.article_id)
        support.append(ids)
    return Summary(sentences, [cands[i].article_id for i in chosen], support)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit - 1)
    return text[: cut if cut > 0 else limit - 1].rstrip(" ,;:") + "…"


def one_line(headline: str, summary: str, limit: int = 280) -> str:
    """The timeline line of a story: its headline, then as much of its summary as fits."""
    headline = normalise(headline).strip().rstrip(".")
    first = split_sentences(summary)[0] if summary else ""
    line = f"{headline}. {first}".strip() if first and first[:60] not in headline else headline + "."
    return _cut(line, limit)


CATEGORY_RULES: list[tuple[str, re.Pattern]] = [
    ("policy", re.compile(r"\b(regulat\w*|lawsuit|sued|court|attorney general|investigation|"
                          r"legislation|senate|congress|eu commission|antitrust|copyright|banned)\b", re.I)),
    ("funding", re.compile(r"\b(raises?|raised|funding|valuation|series [a-f]|acqui(re|res|red|sition)|"
                           r"invest(s|ed|ment)|ipo)\b", re.I)),
    ("model release", re.compile(r"\b(launch\w*|releas\w*|unveil\w*|debut\w*|introduc\w*|announc\w*)\b.*"
                                 r"\b(model|llm|weights)\b|\bmodel\b.*\b(launch\w*|releas\w*|unveil\w*|debut\w*)",
                                 re.I)),
    ("research", re.compile(r"\b(paper|arxiv|researchers|study|benchmark)\b", re.I)),
    ("product", re.compile(r"\b(launch\w*|releas\w*|rolls? out|feature|app|update|available)\b", re.I)),
]


def story_category(headline: str, summary: str = "") -> str:
    """A coarse, rule-based category ("model release", "funding", "policy", …) for a story."""
    for name, pat in CATEGORY_RULES:  # the headline says what the story is
        if pat.search(headline or ""):
            return name
    # the summary only backs it up; a launch mentioned with a lawsuit is still a launch
    rules = dict(CATEGORY_RULES)
    for name in ("model release", "funding", "policy", "research", "product"):
        if rules[name].search(f"{headline} {summary}"):
            return name
    return "news"
