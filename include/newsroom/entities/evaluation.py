"""Precision and recall of the matcher on a labelled set, per entity type.

A labelled case is a text (or a reference to a seed or a corpus page, read at
run time) and the exact set of entity ids a careful reader would tag *directly*
(parent credits are not part of the comparison). Some cases also list ids that
must *not* be found (the traps), which count as false positives when they fire
like any other unexpected id.

Used by ``tests/unit/entities/test_quality.py`` (thresholds) and
``benchmarks/tagging_quality.py`` (the table in the README).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .matcher import Matcher


@dataclass
class Case:
    id: str
    text: str
    expect: set[str]
    forbid: set[str] = field(default_factory=set)
    note: str = ""


@dataclass
class TypeScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Report:
    by_type: dict[str, TypeScore]
    overall: TypeScore
    errors: list[tuple[str, str, str]]  # (case id, "fp"|"fn", entity id)
    cases: int
    skipped: list[str]


def load_cases(path: Path, shared: Path | None = None) -> tuple[list[Case], list[str]]:
    """Cases from a YAML file. ``seed:``/``corpus_gt:`` cases need ``shared``
    (the ../shared folder); they are skipped, and listed, when it is absent."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    cases: list[Case] = []
    skipped: list[str] = []
    gt_cache: dict | None = None
    for i, item in enumerate(raw["cases"]):
        cid = str(item.get("id", i))
        text = item.get("text")
        if text is None and "seed" in item:
            p = shared / "seeds" / item["seed"] if shared else None
            if p is None or not p.is_file():
                skipped.append(cid)
                continue
            text = p.read_text(encoding="utf-8")
        if text is None and "corpus_gt" in item:
            p = shared / "corpus" / "extraction" / "ground-truth.json" if shared else None
            if p is None or not p.is_file():
                skipped.append(cid)
                continue
            if gt_cache is None:
                gt_cache = json.loads(p.read_text(encoding="utf-8"))
            key = next((k for k in gt_cache if k.startswith(item["corpus_gt"])), None)
            if key is None:
                skipped.append(cid)
                continue
            text = gt_cache[key]["articleBody"]
        cases.append(
            Case(cid, text, set(item.get("expect", [])), set(item.get("forbid", [])), item.get("note", ""))
        )
    return cases, skipped


def evaluate(matcher: Matcher, cases: list[Case], skipped: list[str] | None = None) -> Report:
    types = {e.id: e.type for e in matcher.entities.entities}
    by_type: dict[str, TypeScore] = defaultdict(TypeScore)
    overall = TypeScore()
    errors: list[tuple[str, str, str]] = []
    for c in cases:
        found = {m.entity_id for m in matcher.find(c.text)}
        for eid in found | c.expect:
            t = types.get(eid, "unknown")
            if eid in found and eid in c.expect:
                by_type[t].tp += 1
                overall.tp += 1
            elif eid in found:
                by_type[t].fp += 1
                overall.fp += 1
                errors.append((c.id, "fp", eid))
            else:
                by_type[t].fn += 1
                overall.fn += 1
                errors.append((c.id, "fn", eid))
    return Report(dict(sorted(by_type.items())), overall, errors, len(cases), skipped or [])


def format_report(report: Report) -> str:
    lines = [f"{'type':<14} {'TP':>4} {'FP':>4} {'FN':>4} {'precision':>10} {'recall':>8} {'F1':>6}"]
    for t, s in [*report.by_type.items(), ("ALL", report.overall)]:
        lines.append(f"{t:<14} {s.tp:>4} {s.fp:>4} {s.fn:>4} {s.precision:>10.3f} {s.recall:>8.3f} {s.f1:>6.3f}")
    return "\n".join(lines)
