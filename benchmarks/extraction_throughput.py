"""Extraction throughput: articles per second, single core vs the process pool.

    .venv/bin/python benchmarks/extraction_throughput.py [--limit N] [--workers 2] [--repeat 3] [--no-pipeline]

Rows (same pages, same run, best of ``--repeat`` runs each since the machine
may be shared):

* ``trafilatura.extract, 1 core`` — the baseline: ``trafilatura.extract(bytes)``
  with defaults, one page after another in this process;
* ``extract_article, 1 core`` — the project's extractor (text + metadata) in-process;
* ``extract_many, N workers`` — the pool (warm: its start-up is reported apart);
* ``whole path, N workers`` — pages over HTTP on 127.0.0.1 from a generated
  RSS feed through ``ingest_feed`` into a fresh SQLite warehouse.

The aim is ``extract_many`` on 2 cores at ≥ 1.6× the single-core baseline.
"""

from __future__ import annotations

import argparse
import statistics
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "include"), str(ROOT)]

import trafilatura  # noqa: E402

from benchmarks.extraction_pipeline import pipeline_available, run_pipeline  # noqa: E402
from benchmarks.extraction_quality import CORPUS, load_pages  # noqa: E402
from newsroom.extract.article import extract_article  # noqa: E402
from newsroom.extract.pool import ExtractTask, default_workers, extract_many, shutdown_pool  # noqa: E402


def _worker_cpu() -> float:
    """CPU seconds used so far by the pool's worker processes (Linux /proc; 0 elsewhere)."""
    from newsroom.extract import pool

    executor = pool._POOL._executor
    total = 0.0
    for pid in list(getattr(executor, "_processes", None) or {}):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            pass
    return total


def best_of(repeat: int, fn) -> tuple[float, float]:
    """(fastest wall seconds, CPU seconds of that run: this process plus pool workers)."""
    runs = []
    for _ in range(repeat):
        c, w = time.process_time(), _worker_cpu()
        t = time.perf_counter()
        fn()
        wall = time.perf_counter() - t
        runs.append((wall, time.process_time() - c + _worker_cpu() - w))
    return min(runs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=None, help="only the first N pages (by id)")
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-pipeline", action="store_true", help="skip the whole-path row")
    args = ap.parse_args(argv)

    pages, _ = load_pages(args.corpus, args.limit)
    tasks = [ExtractTask(url=r["url"], html=(args.corpus / "extraction" / r["file"]).read_bytes()) for r in pages]
    n = len(tasks)
    mb = sum(len(t.html) for t in tasks) / 1e6
    print(f"extraction throughput: {n} pages ({mb:.1f} MB), {args.workers} workers, best of {args.repeat}; "
          f"cores usable {default_workers()}, load average {os.getloadavg()[0]:.2f}")

    # Warm-up: imports, lazy regex compilation, dateparser tables.
    for t in tasks[:3]:
        trafilatura.extract(t.html)
        extract_article(t.html, t.url)
    t0 = time.perf_counter()
    extract_many(tasks[: max(8, args.workers * 4)], workers=args.workers)
    startup = time.perf_counter() - t0

    rows: list[tuple[str, float, float | None, str]] = []
    base, base_cpu = best_of(args.repeat, lambda: [trafilatura.extract(t.html) for t in tasks])
    rows.append(("trafilatura.extract, 1 core [baseline]", base, base_cpu, ""))
    single, single_cpu = best_of(args.repeat, lambda: [extract_article(t.html, t.url) for t in tasks])
    rows.append(("extract_article, 1 core", single, single_cpu, "text + metadata"))
    pooled, pooled_cpu = best_of(args.repeat, lambda: extract_many(tasks, workers=args.workers))
    rows.append((f"extract_many, {args.workers} workers", pooled, pooled_cpu,
                 f"{single / pooled:.2f}x extract_article 1 core; pool start-up {startup:.1f} s (once)"))
    paired: list[float] = []
    if not args.no_pipeline and pipeline_available():
        shutdown_pool()
        # Cold: a fresh process pool, as in a new Airflow task (start-up included).
        texts, cold, _ = run_pipeline(args.corpus, pages, workers=args.workers)
        rows.append((f"whole path, {args.workers} workers, cold pool", cold, None,
                     f"HTTP + capture + extract + SQLite, pool start-up included; {len(texts)} stored"))
        # Paired rounds: baseline and whole path back to back, so a noisy neighbour
        # slows both; the median of the per-round ratios is the figure to quote.
        warm = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            [trafilatura.extract(x.html) for x in tasks]
            b = time.perf_counter() - t
            _, w, _ = run_pipeline(args.corpus, pages, workers=args.workers)
            warm.append(w)
            paired.append(b / w)
        rows.append((f"whole path, {args.workers} workers, warm pool", min(warm), None,
                     f"paired ratios {', '.join(f'{r:.2f}' for r in paired)}"))
    shutdown_pool()

    print()
    print(f"| {'path':<40} | articles/s | vs baseline | CPU ms/article | note")
    print(f"|{'-' * 42}|------------|-------------|----------------|-----")
    for name, seconds, cpu, note in rows:
        cpu_ms = f"{cpu / n * 1000:>14.1f}" if cpu is not None else f"{'n/a':>14}"
        print(f"| {name:<40} | {n / seconds:>10.1f} | {base / seconds:>10.2f}x | {cpu_ms} | {note}")
    print()
    print(f"extract_many on {args.workers} workers vs single-core trafilatura.extract: {base / pooled:.2f}x "
          f"(aim >= 1.6x on 2 cores); CPU per article {pooled_cpu / base_cpu:.2f}x the baseline's, "
          f"load average now {os.getloadavg()[0]:.2f}")
    if paired:
        print(f"whole path on {args.workers} cores vs single-core trafilatura.extract, median of "
              f"{len(paired)} paired rounds: {statistics.median(paired):.2f}x (aim >= 1.6x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
