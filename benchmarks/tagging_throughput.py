"""Entity-tagging throughput (MB/s of article text) with 10, 1,000 and 10,000
tracked entities, next to a regex-per-alias baseline measured in the same run.

    .venv/bin/python benchmarks/tagging_throughput.py [--mb 2] [--repeat 3]

Text: the article bodies of ../shared/corpus/extraction/ground-truth.json and
the five seeds, cycled to ``--mb`` megabytes and tagged one article at a time
(as the pipeline does). Entities: the shipped list, cut to 10 or padded with
synthetic entities (made-up names with versions and aliases, so they exercise
the same variant generation) to 1,000 and 10,000.

The baseline compiles one case-insensitive ``(?<!\\w)alias(?!\\w)`` regex per
alias spelling and runs each over every article — what a simple tagger does.
Its cost grows with the number of aliases, so at 1,000+ entities it runs on a
slice of the text (MB/s stays comparable).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "include"))

from newsroom.config.entities import EntitiesFile, load_entities  # noqa: E402
from newsroom.entities.matcher import Matcher  # noqa: E402
from newsroom.entities.normalize import term_variants  # noqa: E402
from newsroom.settings import DEFAULTS_DIR  # noqa: E402

SHARED = ROOT.parent / "shared"


def documents(target_mb: float) -> list[str]:
    docs = [p.read_text(encoding="utf-8") for p in sorted((SHARED / "seeds").glob("*.txt"))]
    gt = SHARED / "corpus" / "extraction" / "ground-truth.json"
    if gt.is_file():
        docs += [v["articleBody"] for v in json.loads(gt.read_text(encoding="utf-8")).values()]
    if not docs:
        sys.exit("no text: ../shared/seeds and ../shared/corpus are missing")
    out, size, i = [], 0, 0
    while size < target_mb * 1e6:
        d = docs[i % len(docs)]
        out.append(d)
        size += len(d.encode("utf-8"))
        i += 1
    return out


def entities_of_size(n: int, real: EntitiesFile) -> EntitiesFile:
    data = [e.model_dump(mode="json", exclude_none=True) for e in real.entities]
    if n <= len(data):
        keep = data[:n]
        ids = {e["id"] for e in keep}
        for e in keep:  # cut references to dropped entities
            if e.get("parent") not in ids:
                e.pop("parent", None)
            e["related"] = [r for r in e.get("related", []) if r in ids]
        return EntitiesFile.model_validate({"entities": keep})
    rng = random.Random(42)
    syll = ["zor", "vex", "qua", "lin", "dra", "kel", "myr", "tho", "pex", "ul", "gri", "sna", "bo", "fen", "rax"]
    while len(data) < n:
        i = len(data)
        name = "".join(rng.choice(syll) for _ in range(3)).capitalize()
        data.append({
            "id": f"synthetic-{i}", "name": f"{name} {rng.randint(1, 9)}.{rng.randint(0, 9)}", "type": "model",
            "aliases": [f"{name}-{i}", f"{name} Labs {i}"],
        })
    return EntitiesFile.model_validate({"entities": data})


def regex_baseline(entities: EntitiesFile) -> list[re.Pattern]:
    pats = []
    for e in entities.entities:
        for term, cs in e.match_terms():
            for v in term_variants(term):
                flags = 0 if cs else re.IGNORECASE
                pats.append(re.compile(r"(?<!\w)" + re.escape(v) + r"(?!\w)", flags))
    return pats


def time_matcher(m: Matcher, docs: list[str], repeat: int) -> tuple[float, int]:
    best, hits = float("inf"), 0
    for _ in range(repeat):
        t = time.perf_counter()
        hits = sum(len(m.find(d)) for d in docs)
        best = min(best, time.perf_counter() - t)
    return best, hits


def time_regex(pats: list[re.Pattern], docs: list[str]) -> float:
    t = time.perf_counter()
    for d in docs:
        for p in pats:
            for _ in p.finditer(d):
                pass
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=2.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    docs = documents(args.mb)
    mb = sum(len(d.encode("utf-8")) for d in docs) / 1e6
    real = load_entities(DEFAULTS_DIR / "entities.yaml")
    print(f"text: {len(docs)} articles, {mb:.2f} MB; real entities in the shipped list: {len(real.entities)}")
    print(f"{'entities':>9} {'patterns':>9} {'build s':>8} {'matcher MB/s':>13} {'regex MB/s':>11} {'regex slice MB':>15} {'speed-up':>9}")
    for n in (10, 1_000, 10_000):
        ents = entities_of_size(n, real)
        t = time.perf_counter()
        m = Matcher(ents)
        build = time.perf_counter() - t
        secs, _ = time_matcher(m, docs, args.repeat)
        pats = regex_baseline(ents)
        # Keep the baseline under ~20 s: slice the text in proportion to the pattern count.
        budget_docs = docs[: max(2, int(len(docs) * min(1.0, 100 / max(len(pats), 1))))]
        rmb = sum(len(d.encode("utf-8")) for d in budget_docs) / 1e6
        rsecs = time_regex(pats, budget_docs)
        m_rate, r_rate = mb / secs, rmb / rsecs
        print(f"{n:>9,} {m.pattern_count:>9,} {build:>8.2f} {m_rate:>13.2f} {r_rate:>11.4f} {rmb:>15.3f} {m_rate / r_rate:>8.1f}x")


if __name__ == "__main__":
    main()
