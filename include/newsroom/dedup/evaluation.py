"""Scores for a clustering against hand labels: pairwise and B-cubed precision/recall/F1.

Used by the dedup tests and ``benchmarks/dedup_quality.py``. Pairwise scores
count the pairs put together (a duplicate group of n gives n(n-1)/2 pairs);
B-cubed scores each item by how much of its predicted cluster is right
(precision) and how much of its true cluster it was put with (recall), which
does not let one big cluster dominate.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from itertools import combinations

from pydantic import BaseModel


class Scores(BaseModel):
    precision: float
    recall: float
    f1: float
    tp: int | None = None
    fp: int | None = None
    fn: int | None = None

    def row(self) -> str:
        return f"P={self.precision:.3f} R={self.recall:.3f} F1={self.f1:.3f}"


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _membership(groups: Iterable[Iterable[Hashable]], items: set) -> dict:
    out = {}
    for i, g in enumerate(groups):
        for x in g:
            if x in items:
                out[x] = i
    return out


def pair_scores(predicted: Iterable[Iterable[Hashable]], gold: Iterable[Iterable[Hashable]],
                items: Iterable[Hashable]) -> Scores:
    """Pairwise precision/recall/F1 over ``items`` (others are ignored); items in no group are singletons."""
    items = set(items)

    def pairs(groups):
        out = set()
        for g in groups:
            members = sorted((x for x in g if x in items), key=repr)
            out.update(combinations(members, 2))
        return out

    p, g = pairs(predicted), pairs(gold)
    tp, fp, fn = len(p & g), len(p - g), len(g - p)
    prec = tp / (tp + fp) if tp + fp else 1.0
    rec = tp / (tp + fn) if tp + fn else 1.0
    return Scores(precision=prec, recall=rec, f1=_f1(prec, rec), tp=tp, fp=fp, fn=fn)


def bcubed(predicted: Iterable[Iterable[Hashable]], gold: Iterable[Iterable[Hashable]],
           items: Iterable[Hashable]) -> Scores:
    """B-cubed precision/recall/F1 over ``items``; items in no group are singletons."""
    items = sorted(set(items), key=repr)
    if not items:
        return Scores(precision=1.0, recall=1.0, f1=1.0)
    pm, gm = _membership(predicted, set(items)), _membership(gold, set(items))
    pc: dict = {}
    gc: dict = {}
    for x in items:
        pc.setdefault(pm.get(x, ("single", x)), set()).add(x)
        gc.setdefault(gm.get(x, ("single", x)), set()).add(x)
    prec = rec = 0.0
    for x in items:
        mine_p = pc[pm.get(x, ("single", x))]
        mine_g = gc[gm.get(x, ("single", x))]
        both = len(mine_p & mine_g)
        prec += both / len(mine_p)
        rec += both / len(mine_g)
    prec /= len(items)
    rec /= len(items)
    return Scores(precision=prec, recall=rec, f1=_f1(prec, rec))
