"""Dedup/stories cost per article as the archive grows (1k, 10k, 100k articles), next to
an all-pairs baseline measured in the same run (1k and 10k).

    .venv/bin/python benchmarks/dedup_scale.py [--sizes 1000,10000,100000] [--baseline-max 10000]

Articles are derived from the corpus (ground-truth.json bodies and the seeds):
sentences are pooled; an *event* draws 40 sentences and three made-up names;
each of its 1–8 articles (different outlets, within 24 h of the event) keeps
60–90 % of those sentences, shuffled, with the names sprinkled in; one article
in ten is a syndicated copy of another of the event's articles with other
boilerplate. Events arrive at a steady 300 articles per simulated day, so the
72 h window holds the same number of articles whatever the archive size: flat
time per article is then what an incremental design should show.

Incremental path: the real ``process_articles`` on a SQLite warehouse, fed in
batches of 1,000 in time order (as the DAG would). Reported: ms/article over
the whole run and over the first and last 10 % of batches, and the process's
peak RSS per size (each size runs in its own process).

Baseline: every new article compared with *every* earlier one (MinHash
Jaccard with numpy over all signatures, TF-IDF cosine with a sparse
matrix-vector product over all vectors), in memory — no database, so it is
flattered; its cost per article still grows with the archive. Its links are
compared with the incremental path's (pairwise agreement of the stories).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import string
import subprocess
import sys
import tempfile
import time
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "include"))

SHARED = ROOT.parent / "shared"
PER_DAY = 300
BOILER = ("Advertisement. This story was distributed by a news agency and may have been edited for length. "
          "Sign up for our newsletter. Copyright, all rights reserved.")


def sentence_pool() -> list[str]:
    texts = [v["articleBody"] for v in json.loads((SHARED / "corpus/extraction/ground-truth.json").read_text())
             .values()]
    texts += [p.read_text(encoding="utf-8") for p in sorted((SHARED / "seeds").glob("*.txt"))]
    pool = []
    for t in texts:
        for s in re.split(r"(?<=[.!?])\s+", t):
            s = " ".join(s.split())
            if 6 <= len(s.split()) <= 60:
                pool.append(s)
    return sorted(set(pool))


def _perturb(sentence: str, event: int) -> str:
    from newsroom.dedup.terms import term_weight

    out = []
    for w in sentence.split():
        core = re.sub(r"\W", "", w).lower()
        if len(core) > 3 and term_weight(core) > 3.0:
            h = zlib.crc32(f"{core}/{event}".encode())
            w = core[:3] + format(h % 36 ** 4, "x")
        out.append(w)
    return " ".join(out)


def synthetic_articles(n: int, seed: int = 42) -> list[dict]:
    rng = random.Random(seed)
    pool = sentence_pool()
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    out: list[dict] = []
    event = 0
    while len(out) < n:
        event += 1
        t0 = start + timedelta(days=len(out) / PER_DAY)
        names = ["".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(6, 9))).capitalize()
                 for _ in range(3)]
        # Rare words are swapped for event-specific pseudo-words, so two events drawing
        # sentences from the same corpus page don't share that page's names.
        sentences = [_perturb(s, event) for s in rng.sample(pool, 40)]
        arts: list[dict] = []
        for k in range(rng.randint(1, 8)):
            if arts and rng.random() < 0.1:
                src = rng.choice(arts)
                text = BOILER + "\n\n" + src["text"]
                title = src["title"]
            else:
                kept = rng.sample(sentences, int(len(sentences) * rng.uniform(0.6, 0.9)))
                for i in rng.sample(range(len(kept)), 3):
                    kept[i] = f"{rng.choice(names)} {kept[i]}"
                text = "\n".join(" ".join(kept[i:i + 4]) for i in range(0, len(kept), 4))
                title = f"{names[0]} and {names[1]}: " + " ".join(kept[0].split()[:6])
            at = t0 + timedelta(minutes=rng.randint(0, 24 * 60))
            arts.append({"canonical_url": f"https://outlet{rng.randint(1, 60)}.example/e{event}/a{k}",
                         "outlet": None, "title": title, "text": text, "published_at": at, "event": event})
        out.extend(arts)
    out = out[:n]
    for a in out:
        a["outlet"] = a["canonical_url"].split("/")[2]
    return out


def run_incremental(n: int) -> dict:
    from sqlalchemy import select

    from newsroom.pipeline.stories import process_articles
    from newsroom.warehouse import migrate_warehouse, upsert
    from newsroom.warehouse.schema import Article
    from newsroom.warehouse.schema.stories import StoryArticle

    arts = synthetic_articles(n)
    arts.sort(key=lambda a: a["published_at"])
    with tempfile.TemporaryDirectory() as d:
        engine = migrate_warehouse(f"sqlite:///{d}/w.db")
        rows = [{"canonical_url": a["canonical_url"], "url": a["canonical_url"], "outlet": a["outlet"],
                 "title": a["title"], "text": a["text"], "published_at": a["published_at"],
                 "first_seen_at": a["published_at"], "extraction_status": "ok",
                 "word_count": len(a["text"].split()), "origin": "feed", "updated_at": a["published_at"]}
                for a in arts]
        with engine.begin() as conn:
            for i in range(0, len(rows), 200):
                upsert(conn, Article, rows[i:i + 200], keys=["canonical_url"])
            ids = dict(conn.execute(select(Article.canonical_url, Article.id)).all())
        order = [ids[a["canonical_url"]] for a in arts]
        batch = 1000 if n >= 5000 else max(100, n // 10)
        times = []
        t_all = time.perf_counter()
        for i in range(0, len(order), batch):
            t = time.perf_counter()
            process_articles(engine, order[i:i + batch])
            times.append((time.perf_counter() - t) / len(order[i:i + batch]))
        total = time.perf_counter() - t_all
        with engine.connect() as conn:
            membership = dict(conn.execute(select(StoryArticle.article_id, StoryArticle.story_id)).all())
        db_bytes = Path(f"{d}/w.db").stat().st_size
    tenth = max(1, len(times) // 10)
    url_of = {v: k for k, v in ids.items()}
    return {
        "n": n, "total_s": total, "ms_per_article": 1000 * total / n,
        "ms_first": 1000 * sum(times[:tenth]) / tenth, "ms_last": 1000 * sum(times[-tenth:]) / tenth,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "db_mb": db_bytes / 2 ** 20,
        "stories": {url_of[a]: s for a, s in membership.items()},
        "events": {a["canonical_url"]: a["event"] for a in arts},
    }


def run_all_pairs(n: int) -> dict:
    import numpy as np
    from scipy.cluster.hierarchy import DisjointSet
    from scipy.sparse import csr_matrix

    from newsroom.dedup.terms import story_threshold, term_vector
    from newsroom.dedup.text import is_near_duplicate, minhash_signature, words

    arts = synthetic_articles(n)
    arts.sort(key=lambda a: a["published_at"])
    t_all = time.perf_counter()
    sigs, sizes, vecs = [], [], []
    vocab: dict[str, int] = {}
    for a in arts:
        s, k = minhash_signature(words(a["text"]))
        sigs.append(s)
        sizes.append(k)
        v = term_vector(a["title"] + "\n" + a["text"])
        vecs.append({vocab.setdefault(t, len(vocab)): w for t, w in v.items()})
    rows, cols, vals = [], [], []
    for i, v in enumerate(vecs):
        for c, w in v.items():
            rows.append(i)
            cols.append(c)
            vals.append(w)
    X = csr_matrix((vals, (rows, cols)), shape=(n, len(vocab)))
    S = np.stack(sigs)
    ds = DisjointSet(range(n))
    times = []
    hours = np.array([a["published_at"].timestamp() / 3600 for a in arts])
    for i in range(1, n):
        t = time.perf_counter()
        eq = (S[:i] == S[i]).mean(axis=1)  # all earlier signatures
        for j in np.nonzero(eq >= 0.3)[0]:
            if is_near_duplicate(S[i], sizes[i], S[j], sizes[j])[0]:
                ds.merge(i, int(j))
        cos = X[:i] @ X[i].T  # all earlier vectors
        cos = cos.toarray().ravel()
        for j in np.nonzero(cos >= 0.3)[0]:
            apart = abs(hours[i] - hours[j])
            score = cos[j] * (1 - 0.2 * apart / 72) if apart <= 72 else 0.0
            if score >= story_threshold(arts[i]["outlet"], arts[int(j)]["outlet"]):
                ds.merge(i, int(j))
        times.append(time.perf_counter() - t)
    total = time.perf_counter() - t_all
    tenth = max(1, len(times) // 10)
    return {"n": n, "total_s": total, "ms_per_article": 1000 * total / n,
            "ms_first": 1000 * sum(times[:tenth]) / tenth, "ms_last": 1000 * sum(times[-tenth:]) / tenth,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "db_mb": 0.0,
            "stories": {a["canonical_url"]: ds[i] for i, a in enumerate(arts)}}


def _pair_agreement(pred: dict, gold: dict) -> tuple[float, float]:
    from newsroom.dedup.evaluation import pair_scores

    def groups(m):
        g: dict = {}
        for k, v in m.items():
            g.setdefault(v, set()).add(k)
        return list(g.values())

    s = pair_scores(groups(pred), groups(gold), gold.keys())
    return s.precision, s.recall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--baseline-max", type=int, default=10000)
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        mode, n = args.one.split(":")
        res = run_incremental(int(n)) if mode == "inc" else run_all_pairs(int(n))
        print(json.dumps(res, default=str))
        return
    sizes = [int(s) for s in args.sizes.split(",") if s]
    print(f"synthetic articles from the corpus, {PER_DAY}/day, window 72 h; sizes {sizes}")
    print()
    print(f"| {'method':10} | {'articles':>8} | {'total s':>8} | {'ms/article':>10} | {'first 10%':>9} | "
          f"{'last 10%':>8} | {'peak RSS MB':>11} | {'DB MB':>6} | {'story P/R vs events':>19} |")
    print(f"|{'-' * 12}|{'-' * 10}|{'-' * 10}|{'-' * 12}|{'-' * 11}|{'-' * 10}|{'-' * 13}|{'-' * 8}|{'-' * 21}|")
    for n in sizes:
        results = {}
        for mode in ("inc", "pairs"):
            if mode == "pairs" and n > args.baseline_max:
                continue
            out = subprocess.run([sys.executable, __file__, "--one", f"{mode}:{n}"], capture_output=True,
                                 text=True, check=True)
            results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
        events = results["inc"]["events"]
        for mode, r in results.items():
            p, rc = _pair_agreement(r["stories"], events)
            name = "newsroom" if mode == "inc" else "all-pairs"
            print(f"| {name:10} | {n:8d} | {r['total_s']:8.1f} | {r['ms_per_article']:10.2f} | "
                  f"{r['ms_first']:9.2f} | {r['ms_last']:8.2f} | {r['peak_rss_mb']:11.0f} | {r['db_mb']:6.1f} | "
                  f"{p:8.3f}/{rc:.3f} |")
        if "pairs" in results:
            p, rc = _pair_agreement(results["inc"]["stories"], results["pairs"]["stories"])
            print(f"|   newsroom links vs all-pairs links at {n}: precision {p:.3f}, recall {rc:.3f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
