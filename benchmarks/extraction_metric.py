"""The article-extraction F1 used by scrapinghub/article-extraction-benchmark.

Re-implemented from its description in ``../shared/corpus/README.md`` so the
project's figures are comparable with the published ones: tokens are
``\\w+`` matches, a page is the multiset of its 4-token shingles, and per page
true/false positives and false negatives are multiset overlaps normalised to
sum 1. Precision and recall are averaged over pages and F1 is the harmonic
mean *of those averages* (not the mean of per-page F1s).

Importable (``from benchmarks.extraction_metric import score_corpus``) so the
unit tests can check the metric on hand-made examples.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

_TOKEN = re.compile(r"\w+")
SHINGLE = 4


def shingles(text: str | None, n: int = SHINGLE) -> Counter[tuple[str, ...]]:
    """Multiset of ``n``-token shingles of ``text`` (none when it has fewer than ``n`` tokens,
    as upstream)."""
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


@dataclass(frozen=True)
class PageScore:
    tp: float
    fp: float
    fn: float

    # Upstream conventions: nothing to find and nothing found is perfect;
    # no true positive at all is zero (also covers an empty prediction).
    @property
    def precision(self) -> float:
        if self.fp == self.fn == 0:
            return 1.0
        return self.tp / (self.tp + self.fp) if self.tp else 0.0

    @property
    def recall(self) -> float:
        if self.fp == self.fn == 0:
            return 1.0
        return self.tp / (self.tp + self.fn) if self.tp else 0.0


def score_page(predicted: str | None, expected: str | None) -> PageScore:
    """TP/FP/FN of one page, normalised so that TP+FP+FN = 1.

    Both empty is a perfect page; exactly one empty is all FP or all FN.
    """
    pred, true = shingles(predicted), shingles(expected)
    if not pred and not true:
        return PageScore(1.0, 0.0, 0.0)
    tp = sum((pred & true).values())
    fp = sum((pred - true).values())
    fn = sum((true - pred).values())
    total = tp + fp + fn
    return PageScore(tp / total, fp / total, fn / total)


@dataclass(frozen=True)
class CorpusScore:
    precision: float
    recall: float
    pages: int

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if (p + r) else 0.0


def score_corpus(pairs: Iterable[tuple[str | None, str | None]]) -> CorpusScore:
    """Average P and R over ``(predicted, expected)`` pages; F1 of the averages."""
    scores = [score_page(p, e) for p, e in pairs]
    if not scores:
        return CorpusScore(0.0, 0.0, 0)
    n = len(scores)
    return CorpusScore(
        precision=sum(s.precision for s in scores) / n,
        recall=sum(s.recall for s in scores) / n,
        pages=n,
    )
