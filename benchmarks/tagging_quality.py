"""Precision and recall of entity tagging per entity type on the labelled set
(tests/fixtures/entities_eval/labelled.yaml: own sentences with the known traps,
the five seeds and a few corpus pages, read from ../shared at run time).

    .venv/bin/python benchmarks/tagging_quality.py

Baseline in the same run: a naive tagger that matches every name and alias
case-insensitively on word boundaries, with no case-sensitive aliases,
exclusions, context cues or longest-match — what the traps are about.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "include"))

from newsroom.config.entities import EntitiesFile, load_entities  # noqa: E402
from newsroom.entities.evaluation import evaluate, format_report, load_cases  # noqa: E402
from newsroom.entities.matcher import Matcher  # noqa: E402
from newsroom.settings import DEFAULTS_DIR  # noqa: E402

LABELLED = ROOT / "tests" / "fixtures" / "entities_eval" / "labelled.yaml"


def naive(entities: EntitiesFile) -> Matcher:
    """Same file with every refinement stripped: all aliases case-insensitive,
    no exclusions, no context. (Longest-match still applies inside the automaton.)"""
    data = []
    for e in entities.entities:
        d = e.model_dump(mode="json", exclude_none=True)
        d["aliases"] = d.get("aliases", []) + [a for a in d.get("case_sensitive", []) if a.lower() not in
                                               {x.lower() for x in d.get("aliases", [])}]
        d["case_sensitive"], d["exclude"], d["match_name"] = [], [], True
        d.pop("context", None)
        data.append(d)
    # Drop aliases that now collide (case-folded duplicates across entities).
    seen: set[str] = set()
    for d in data:
        keep = []
        for a in [d["name"], *d["aliases"]]:
            if a.lower() not in seen:
                seen.add(a.lower())
                keep.append(a)
        d["aliases"] = keep[1:] if keep and keep[0] == d["name"] else keep
        if not keep or keep[0] != d["name"]:
            d["match_name"] = False
    return Matcher(EntitiesFile.model_validate({"entities": data}))


def main() -> None:
    entities = load_entities(DEFAULTS_DIR / "entities.yaml")
    cases, skipped = load_cases(LABELLED, ROOT.parent / "shared")
    print(f"labelled cases: {len(cases)} (skipped, ../shared missing: {len(skipped)})\n")
    for label, m in (("newsroom matcher", Matcher(entities)), ("naive baseline", naive(entities))):
        report = evaluate(m, cases, skipped)
        print(f"== {label}")
        print(format_report(report))
        if report.errors:
            shown = ", ".join(f"{c}:{k}:{e}" for c, k, e in report.errors[:25])
            print(f"errors ({len(report.errors)}): {shown}{' …' if len(report.errors) > 25 else ''}")
        print()


if __name__ == "__main__":
    main()
