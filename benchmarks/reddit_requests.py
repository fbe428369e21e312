"""Reddit request budget: requests per subreddit per run, and the request rate a
server observes with 20 subreddits configured, against the configured limit.

    .venv/bin/python benchmarks/reddit_requests.py [--subs 20] [--limit 10] [--rpm 300]

A local replay server plays Reddit: each of the N subreddits serves a distinct
slice of the corpus's real listings (``../shared/corpus/reddit/listings``), and
every listed post has a thread (its own submission plus the real comment tree
of a 69-comment thread). The server timestamps every request it receives.

Rows:
* ``baseline (no pacing)``: first run with the per-process budget effectively
  off — the rate the server would see from an impolite client;
* ``paced, sequential``: first run at ``--rpm`` requests per minute;
* ``paced, 4 threads``: the same with 4 subreddits at a time in one process
  (what a worker running 4 mapped tasks sees; the budget is per process);
* ``rerun (paced)``: the next run: comment counts did not move, so only the
  listings are read.

Link posts point at real sites; the benchmark allows only 127.0.0.1, so they
are recorded as ``host_not_allowed`` and never fetched.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "include")]

from newsroom.config.sources import RedditConfig, SourcesFile, SubredditSource  # noqa: E402
from newsroom.pipeline.reddit import ingest_subreddit  # noqa: E402
from newsroom.reddit.client import reset_process_state  # noqa: E402
from newsroom.settings import Settings  # noqa: E402
from newsroom.warehouse import dispose_all, migrate_warehouse  # noqa: E402
from tests.replay_server import ReplayServer  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "reddit"
LISTINGS = ["r_askreddit_hot_2020-07-10.json", "r_askreddit_new_2020-07-10.json",
            "r_askreddit_controversial_all_2020-07-10.json", "r_all_new_2021-01-18_page1.json",
            "r_ferguson_hot_quarantined_2016-12-18.json", "r_popular_hot_2026-04-13.json"]
COMMENTS_FROM = "threads/1j7g9uj_lil_spazjoekp_test_post_2025-10-08.json"
JSON = {"Content-Type": "application/json; charset=UTF-8"}


class Stamps:
    """Server-side arrival times of every request."""

    def __init__(self):
        self.times: list[float] = []
        self.lock = threading.Lock()

    def route(self, body: bytes):
        def handler(_req):
            with self.lock:
                self.times.append(time.monotonic())
            return 200, dict(JSON), body

        return handler

    def clear(self):
        with self.lock:
            self.times.clear()


def listing_body(children: list[dict]) -> bytes:
    return json.dumps({"kind": "Listing", "data": {"after": None, "before": None, "children": children}}).encode()


def mount(server: ReplayServer, stamps: Stamps, n_subs: int, per_sub: int) -> list[str]:
    comments = json.loads((CORPUS / COMMENTS_FROM).read_bytes())[1]
    pools = [json.loads((CORPUS / "listings" / f).read_bytes())["data"]["children"] for f in LISTINGS]
    names = []
    for i in range(n_subs):
        pool, offset = pools[i % len(pools)], per_sub * (i // len(pools))
        children = pool[offset : offset + per_sub]
        if len(children) < per_sub:
            raise SystemExit(f"not enough corpus posts for {n_subs} subreddits of {per_sub}")
        name = f"bench{i:02d}"
        names.append(name)
        server.add(f"/r/{name}/hot.json", handler=stamps.route(listing_body(children)))
        for c in children:
            thread = json.dumps([json.loads(listing_body([c])), comments]).encode()
            server.add(f"/comments/{c['data']['id']}.json", handler=stamps.route(thread))
    return names


def rates(times: list[float]) -> tuple[float, float, float]:
    """(duration s, mean requests/min, peak requests/min over any 1 s window)."""
    if len(times) < 2:
        return 0.0, 0.0, 0.0
    ts = sorted(times)
    duration = ts[-1] - ts[0]
    peak, j = 0, 0
    for i, t in enumerate(ts):
        while ts[j] < t - 1.0:
            j += 1
        peak = max(peak, i - j + 1)
    return duration, (len(ts) - 1) / duration * 60 if duration else float("inf"), peak * 60.0


def run(names, sources, settings, engine, run_key: str, workers: int) -> list[dict]:
    def one(name):
        return ingest_subreddit(name, settings=settings, run_key=run_key, sources=sources, engine=engine)

    if workers == 1:
        return [one(n) for n in names]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, names))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subs", type=int, default=20)
    ap.add_argument("--limit", type=int, default=10, help="posts per subreddit listing")
    ap.add_argument("--rpm", type=float, default=300, help="configured requests per minute")
    args = ap.parse_args()
    if not CORPUS.is_dir():
        print(f"corpus not found at {CORPUS}", file=sys.stderr)
        return 2

    rows = []
    with ReplayServer() as server, tempfile.TemporaryDirectory() as tmp:
        stamps = Stamps()
        names = mount(server, stamps, args.subs, args.limit)
        settings = Settings(data_dir=str(Path(tmp) / "data"), allow_private_networks=True,
                            allowed_hosts=["127.0.0.1"], warehouse_url="")
        scenarios = [("baseline (no pacing)", 1e9, 1, "fresh"), (f"paced {args.rpm:.0f}/min, sequential", args.rpm, 1, "fresh"),
                     (f"paced {args.rpm:.0f}/min, 4 threads", args.rpm, 4, "fresh"),
                     (f"rerun, paced {args.rpm:.0f}/min", args.rpm, 1, "rerun")]
        engine = None
        for label, rpm, workers, kind in scenarios:
            if kind == "fresh":
                dispose_all()
                db = Path(tmp) / f"wh-{len(rows)}.db"
                engine = migrate_warehouse(f"sqlite:///{db}")
            cfg = RedditConfig(base_url=server.base_url, oauth_base_url=server.base_url,
                               token_url=server.url("/api/v1/access_token"), requests_per_minute=rpm, max_wait_s=5,
                               subreddits=[SubredditSource(name=n, listing="hot", limit=args.limit, min_score=0,
                                                           top_comments=5, articles=True) for n in names])
            sources = SourcesFile(reddit=cfg)
            reset_process_state()
            stamps.clear()
            t0 = time.monotonic()
            results = run(names, sources, settings, engine, run_key="run-2" if kind == "rerun" else "run-1",
                          workers=workers)
            wall = time.monotonic() - t0
            per_sub = [r["requests"] for r in results]
            reasons = Counter(r["reason"] or "ok" for r in results)
            duration, mean, peak = rates(stamps.times)
            rows.append((label, len(stamps.times), min(per_sub), sum(per_sub) / len(per_sub), max(per_sub),
                         wall, mean, peak, rpm, dict(reasons)))

    print(f"{args.subs} subreddits x {args.limit} posts, top 5 comments, replay server on 127.0.0.1\n")
    head = ("scenario", "requests", "per sub min/mean/max", "wall s", "observed mean/min", "peak 1s-window/min",
            "configured/min", "outcomes")
    print(" | ".join(head))
    print(" | ".join("-" * len(h) for h in head))
    for label, total, lo, avg, hi, wall, mean, peak, rpm, reasons in rows:
        conf = "off" if rpm >= 1e8 else f"{rpm:.0f}"
        print(f"{label} | {total} | {lo}/{avg:.1f}/{hi} | {wall:.2f} | {mean:.0f} | {peak:.0f} | {conf} | {reasons}")
    base, paced, threaded, rerun = rows
    print(f"\nwithout pacing the server sees {base[6]:.0f}/min (peak {base[7]:.0f}/min); paced at {paced[8]:.0f}/min it "
          f"sees {paced[6]:.0f}/min sequentially ({paced[6] / paced[8]:.0%} of the limit) and {threaded[6]:.0f}/min "
          f"with 4 threads ({threaded[6] / threaded[8]:.0%}); a rerun needs {rerun[3]:.1f} requests per subreddit "
          f"instead of {paced[3]:.1f}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
