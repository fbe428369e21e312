"""Fetch layer figures: memory on a gzip bomb, and get_many against sequential gets.

    .venv/bin/python benchmarks/fetch_limits.py [--bomb-mib 50] [--urls 40] [--delay 0.05]

Everything runs against tests/replay_server.py on 127.0.0.1.

Rows:
* ``gzip bomb, plain httpx`` (baseline): ``httpx.Client().get`` on a body of N MiB of
  zeros gzip-compressed (~N KB on the wire) — what a client without a decoded-size cap
  holds in memory;
* ``gzip bomb, Fetcher``: the same URL through ``Fetcher.get`` with a 1 MB cap;
* ``sequential get`` (baseline): ``--urls`` pages, each answered after ``--delay`` s,
  split over two host names (127.0.0.1 and localhost), fetched one by one;
* ``get_many``: the same pages with ``per_host=2, concurrency=8``, plus the peak
  number of requests the server saw at once.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import tracemalloc
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "include"), str(ROOT)]

import httpx  # noqa: E402

from newsroom.fetch import Fetcher, FetchPolicy  # noqa: E402
from tests.replay_server import ReplayServer  # noqa: E402


def gzip_zeros(mib: int) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    return b"".join([c.compress(block) for _ in range(mib)] + [c.flush()])


def measure(fn):
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        out = fn()
    finally:
        took = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return out, took, peak


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bomb-mib", type=int, default=50)
    ap.add_argument("--urls", type=int, default=40)
    ap.add_argument("--delay", type=float, default=0.05)
    args = ap.parse_args()

    rows: list[tuple[str, str, str, str]] = []
    policy = FetchPolicy(user_agent="newsroom-bench/1", allow_private_networks=True, max_bytes=1_000_000,
                         per_host=2, concurrency=8)
    with ReplayServer() as srv:
        bomb = gzip_zeros(args.bomb_mib)
        url = srv.add("/bomb", body=bomb, gzip=True)
        with httpx.Client() as plain:
            resp, took, peak = measure(lambda: plain.get(url))
        rows.append(("gzip bomb, plain httpx (baseline)", f"{took * 1000:.0f} ms", f"{peak / 1e6:.1f} MB",
                     f"{len(resp.content) / 2**20:.0f} MiB decoded from {len(bomb) / 1e3:.0f} KB"))
        del resp
        with Fetcher(policy) as f:
            res, took, peak = measure(lambda: f.get(url))
        rows.append(("gzip bomb, Fetcher (1 MB cap)", f"{took * 1000:.0f} ms", f"{peak / 1e6:.1f} MB",
                     f"error={res.error}"))

        lock = threading.Lock()
        state = {"now": 0, "peak": 0}

        def slow(handler):
            with lock:
                state["now"] += 1
                state["peak"] = max(state["peak"], state["now"])
            time.sleep(args.delay)
            with lock:
                state["now"] -= 1
            return 200, {"Content-Type": "text/html"}, b"<html>page</html>"

        srv.add("/p", handler=slow)
        urls = [f"http://{h}:{srv.port}/p?i={i}" for i in range(args.urls // 2) for h in ("127.0.0.1", "localhost")]
        with Fetcher(policy) as f:
            t0 = time.perf_counter()
            seq = [f.get(u) for u in urls]
            t_seq = time.perf_counter() - t0
            peak_seq = state["peak"]
            state["peak"] = 0
            t0 = time.perf_counter()
            many = f.get_many(urls, check_robots=False)
            t_many = time.perf_counter() - t0
        assert all(r.ok for r in seq) and all(r.ok for r in many.values())
        rows.append(("sequential get (baseline)", f"{t_seq * 1000:.0f} ms", "-",
                     f"{len(urls)} pages, {len(urls) / t_seq:.1f}/s, server peak in-flight {peak_seq}"))
        rows.append(("get_many per_host=2 concurrency=8", f"{t_many * 1000:.0f} ms", "-",
                     f"{len(urls) / t_many:.1f}/s ({t_seq / t_many:.1f}x), server peak in-flight {state['peak']}"))

    w = [max(len(r[i]) for r in rows + [("case", "time", "peak mem", "notes")]) for i in range(4)]
    header = ("case", "time", "peak mem", "notes")
    print("  ".join(h.ljust(w[i]) for i, h in enumerate(header)))
    print("  ".join("-" * w[i] for i in range(4)))
    for r in rows:
        print("  ".join(c.ljust(w[i]) for i, c in enumerate(r)))


if __name__ == "__main__":
    main()
