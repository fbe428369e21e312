"""Scale of sources: one ``newsroom_ingest`` run over N feeds on a real scheduler.

    .venv/bin/python benchmarks/scale_sources.py                       # 100 and 1,000 feeds, both variants
    .venv/bin/python benchmarks/scale_sources.py --feeds 100 --variants batched
    .venv/bin/python benchmarks/scale_sources.py --feeds 1000 --variants per-source --timeout 1200

What is measured, and how:

* **The site.** N generated RSS feeds (``--entries`` items each, distinct generated
  article pages of ~350 words) served over real HTTP by ``tests/replay_server.py`` servers
  on ``--hosts`` loopback addresses (127.0.0.2, 127.0.0.3, …; all of 127/8 is the loopback
  interface on Linux), feeds dealt round-robin over them, so per-host limits act as they
  would on the web instead of serialising everything on one host. robots.txt allows all.
* **The cluster.** ``tests/backfill/cluster.py`` ``AirflowCluster(rest=True)``: PostgreSQL
  metadata, LocalExecutor, api-server + scheduler + dag-processor as separate process
  groups, parallelism and max active tasks per DAG = 2 × cores as ``scripts/env.sh`` sets
  them for ``make run``. Warehouse: a fresh PostgreSQL database, migrated first.
* **The run.** One manual trigger through the REST API, watched through it. *wall* is from
  the trigger to the run's end (all tasks: plan, feeds, enrich, summarize); *ingest* is from
  the first feed task's start to the last one's end (metadata DB); *rest of run* is the
  difference (scheduling, planning, enrichment of the new articles, the summary).
* **CPU** is the sum over every process of the cluster's trees (api-server, scheduler,
  dag-processor and all their descendants: task supervisors, task processes, extraction
  workers) of its user+system time, sampled every 0.25 s; a process's last <0.25 s before
  it exits is missed, so the figure is a slight *underestimate*. *peak RSS* is the largest
  sum of the trees' resident memory seen by the same sampler (pages shared between forked
  processes counted in each); *PSS*, read every fourth sample, shares them out instead, the
  better measure of what the machine needs.
* **Variants.** ``per-source``: ``NEWSROOM_FEEDS_PER_TASK=1``, one mapped task per feed (the
  mapping before batching). ``batched``: ``NEWSROOM_FEEDS_PER_TASK=--feeds-per-task``
  (default 20), feeds fetched concurrently inside the task, one per host at a time.
* **Checks.** Articles stored == N × entries, every feed's ``source_runs`` row ``ok``, the
  run green. A run still going at ``--timeout`` is stopped and its rate extrapolated (feeds
  finished / elapsed), clearly labelled in the table.

The machine may be shared: the table prints the load average before each measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "include"), str(ROOT)]

WORDS = ("model open weights release benchmark training inference chip cluster startup funding policy "
         "regulator research paper dataset agent safety evaluation compute partnership customer revenue "
         "developer platform launch update version latency context window token price market analyst "
         "engineer team lab university government europe america china data center energy deal").split()
DAG_ID = "newsroom_ingest"


_SYLLABLES = ("ka lo mi ne ra to vu se di pa re no lu fa ti ge mo sa be ru ko ni da ve li po "
              "zu ha ce jo").split()
# A vocabulary large enough that two pages share few words: generated pages that all drew
# from the same 60 words read as one big story to the dedup/story engine (one story of 3,000
# articles), which measures enrichment on a pathological day rather than the mapping.
_RND = random.Random(15)
VOCAB = sorted({"".join(_RND.choice(_SYLLABLES) for _ in range(2 + i % 3)) for i in range(20000)})


def page_html(feed: int, entry: int) -> str:
    """A distinct, article-shaped page (seeded: same feed/entry → same bytes)."""
    rnd = random.Random(feed * 1000 + entry)
    words = [rnd.choice(VOCAB) for _ in range(120)] + list(WORDS)
    title = " ".join(rnd.choice(words) for _ in range(7)).capitalize()
    paras = []
    for _ in range(6):
        sents = []
        for _ in range(4):
            sents.append(" ".join(rnd.choice(words) for _ in range(rnd.randint(10, 18))).capitalize() + ".")
        paras.append(f"<p>{' '.join(sents)} Feed {feed} story {entry}.</p>")
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
            f"<meta property='article:published_time' content='2026-04-08T09:{entry:02d}:00Z'></head>"
            f"<body><header><nav><a href='/'>Home</a></nav></header><article><h1>{title}</h1>"
            f"{''.join(paras)}</article><footer>© site {feed}</footer></body></html>")


def feed_xml(base: str, feed: int, entries: int) -> str:
    items = "".join(
        f"<item><title>Feed {feed} story {e}</title><link>{base}/p/{feed}/{e}.html</link>"
        f"<guid isPermaLink='false'>f{feed}-e{e}</guid><pubDate>Wed, 08 Apr 2026 09:{e:02d}:00 GMT</pubDate>"
        f"<description>Story {e} of feed {feed}</description></item>" for e in range(entries))
    return (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Feed {feed}</title>"
            f"<link>{base}/</link><description>generated</description>{items}</channel></rss>")


def serve_site(n_feeds: int, entries: int, n_hosts: int):
    """Start ``n_hosts`` replay servers and register the feeds; returns (servers, {name: url})."""
    from tests.replay_server import ReplayServer

    servers = [ReplayServer(host=f"127.0.0.{2 + h}").start() for h in range(n_hosts)]
    for srv in servers:
        srv.add("/robots.txt", body="User-agent: *\nAllow: /\n", content_type="text/plain")
    feeds = {}
    for i in range(n_feeds):
        srv = servers[i % n_hosts]
        for e in range(entries):
            srv.add(f"/p/{i}/{e}.html", body=page_html(i, e), content_type="text/html; charset=utf-8")
        feeds[f"feed{i:04d}"] = srv.add(f"/feeds/{i}.xml", body=feed_xml(srv.base_url, i, entries),
                                         content_type="application/rss+xml", etag=f'"f{i}"')
    return servers, feeds


class Sampler(threading.Thread):
    """Samples the cluster's process trees: CPU (user+system) per process, RSS sum."""

    def __init__(self, roots: list[int], interval: float = 0.25):
        super().__init__(daemon=True)
        self.roots, self.interval = roots, interval
        self.cpu: dict[tuple[int, float], float] = {}  # (pid, create_time) → last seen CPU seconds
        self.base: dict[tuple[int, float], float] = {}
        self.peak_rss = 0
        self.peak_pss = 0
        self._n = 0
        self._halt = threading.Event()

    def _procs(self):
        import psutil

        out = []
        for pid in self.roots:
            try:
                root = psutil.Process(pid)
                out.append(root)
                out.extend(root.children(recursive=True))
            except psutil.Error:
                pass
        return out

    def sample(self, into: dict) -> None:
        import psutil

        rss = pss = 0
        full = self._n % 4 == 0  # PSS reads smaps: every 4th sample only
        self._n += 1
        for p in self._procs():
            try:
                with p.oneshot():
                    t = p.cpu_times()
                    key = (p.pid, p.create_time())
                    into[key] = t.user + t.system
                    if full:
                        m = p.memory_full_info()
                        rss, pss = rss + m.rss, pss + m.pss
                    else:
                        rss += p.memory_info().rss
            except psutil.Error:
                pass
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_pss = max(self.peak_pss, pss)

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample(self.cpu)
            self._halt.wait(self.interval)

    def start(self) -> None:
        self.sample(self.base)
        self.cpu.update(self.base)
        self.peak_rss = self.peak_pss = 0
        super().start()

    def stop(self) -> float:
        self._halt.set()
        self.join()
        self.sample(self.cpu)
        return sum(v - self.base.get(k, 0.0) for k, v in self.cpu.items())


def measure(variant: str, n_feeds: int, args) -> dict:
    from sqlalchemy import create_engine, func, select

    from tests.backfill.cluster import AirflowCluster
    from tests.conftest import create_pg_database
    from tests.e2e.corpus_site import write_sources
    from newsroom.warehouse import dispose_all, migrate_warehouse
    from newsroom.warehouse.schema import Article, Source, SourceRun

    import tempfile

    work = Path(tempfile.mkdtemp(prefix=f"scale_{variant}_{n_feeds}_"))
    servers, feeds = serve_site(n_feeds, args.entries, min(args.hosts, n_feeds))
    wh_url, drop = create_pg_database()
    ncpu = os.cpu_count() or 2
    per_task = 1 if variant == "per-source" else args.feeds_per_task
    try:
        migrate_warehouse(wh_url)
        dispose_all()
        sources = write_sources(work / "sources.yaml", feeds)
        env = {
            "NEWSROOM_SOURCES": str(sources),
            "NEWSROOM_WAREHOUSE_URL": wh_url,
            "NEWSROOM_DATA_DIR": str(work / "data"),
            "NEWSROOM_OUTPUT_DIR": str(work / "vault"),
            "NEWSROOM_ALLOW_PRIVATE_NETWORKS": "true",
            "NEWSROOM_ALLOWED_HOSTS": ",".join(s.host for s in servers),
            "NEWSROOM_INGEST_SCHEDULE": "none",
            "NEWSROOM_FEEDS_PER_TASK": str(per_task),
            "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": str(ncpu * 2),
        }
        with AirflowCluster(work / "airflow", env=env, parallelism=ncpu * 2, rest=True) as af:
            af.wait(lambda: _serialized(af), 300, f"{DAG_ID} parsed", poll=2)
            load = os.getloadavg()[0]
            sampler = Sampler([p.pid for p in af.procs])
            sampler.start()
            t0 = time.monotonic()
            af.trigger(DAG_ID, "scale")
            state, timed_out = None, False
            while True:
                dr = af.api("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/scale")
                if dr["state"] in ("success", "failed"):
                    state = dr["state"]
                    break
                if time.monotonic() - t0 > args.timeout:
                    timed_out = True
                    break
                time.sleep(2)
            wall = time.monotonic() - t0
            cpu = sampler.stop()
            rows = af.query("SELECT task_id, count(*), min(start_date), max(end_date), "
                            "sum(CASE WHEN state = 'success' THEN 1 ELSE 0 END) FROM task_instance "
                            "WHERE dag_id = %s AND run_id = 'scale' GROUP BY task_id", DAG_ID)
            tasks = {r[0]: r for r in rows}
            feed_tasks = tasks.get("ingest_feed", (None, 0, None, None, 0))
            ingest_s = ((feed_tasks[3] - feed_tasks[2]).total_seconds()
                        if feed_tasks[2] and feed_tasks[3] else None)
            engine = create_engine(wh_url)
            try:
                with engine.connect() as c:
                    articles = c.execute(select(func.count()).select_from(Article)).scalar_one()
                    ok_sources = c.execute(select(func.count()).select_from(SourceRun).join(
                        Source, Source.id == SourceRun.source_id).where(
                        SourceRun.run_id == "scale", SourceRun.status == "ok")).scalar_one()
                    done_sources = c.execute(select(func.count()).select_from(SourceRun).where(
                        SourceRun.run_id == "scale")).scalar_one()
            finally:
                engine.dispose()
            if timed_out:
                af.api("PATCH", f"/api/v2/dags/{DAG_ID}/dagRuns/scale", json={"state": "failed"})
    finally:
        for srv in servers:
            srv.stop()
        drop()
    n_tasks = sum(r[1] for r in tasks.values())
    # Extrapolate the feeds' rate only while feeds were still being fetched at the timeout.
    projected = (wall * n_feeds / done_sources) if timed_out and 0 < done_sources < n_feeds else None
    return {"variant": variant, "feeds": n_feeds, "feeds_per_task": per_task, "state": state or "timeout",
            "timed_out": timed_out, "wall_s": wall, "projected_wall_s": projected, "ingest_s": ingest_s,
            "tasks": n_tasks, "feed_tasks": feed_tasks[1], "cpu_s": cpu, "peak_rss_mb": sampler.peak_rss / 2**20,
            "peak_pss_mb": sampler.peak_pss / 2**20,
            "articles": articles, "expected_articles": n_feeds * args.entries, "sources_ok": ok_sources,
            "sources_done": done_sources, "load_before": load}


def _serialized(af):
    try:
        return af.api("GET", f"/api/v2/dags/{DAG_ID}")
    except RuntimeError as exc:
        if "→ 404" in str(exc):
            return None
        raise


def table(results: list[dict]) -> str:
    head = ("| variant | feeds | feed tasks | all tasks | wall | ingest phase | rest of run | wall / feed task | CPU | "
            "CPU / feed task | CPU / feed | peak RSS (PSS) | articles stored / expected | sources ok | run | "
            "fits in 1 h | load before |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        ft = max(r["feed_tasks"], 1)
        if r["timed_out"]:
            wall = (f"stopped at {r['wall_s']:.0f} s; **extrapolated {r['projected_wall_s']:.0f} s**"
                    if r["projected_wall_s"] else f"stopped at {r['wall_s']:.0f} s (feeds done, enrich running)")
            fits = (f"no (extrapolated {r['projected_wall_s'] / 60:.0f} min)" if r["projected_wall_s"]
                    and r["projected_wall_s"] > 3600 else "extrapolated yes" if r["projected_wall_s"]
                    else "?")
        else:
            wall = f"{r['wall_s']:.0f} s"
            fits = "yes" if r["wall_s"] <= 3600 and r["state"] == "success" else "no"
        ingest = f"{r['ingest_s']:.0f} s" if r["ingest_s"] else "-"
        rest = f"{r['wall_s'] - r['ingest_s']:.0f} s" if r["ingest_s"] and not r["timed_out"] else "-"
        per_task_wall = f"{r['ingest_s'] / ft:.2f} s" if r["ingest_s"] else "-"
        lines.append(
            f"| {r['variant']} ({r['feeds_per_task']}/task) | {r['feeds']} | {r['feed_tasks']} | {r['tasks']} | {wall} "
            f"| {ingest} | {rest} | {per_task_wall} | {r['cpu_s']:.0f} s | {r['cpu_s'] / ft:.2f} s "
            f"| {r['cpu_s'] / max(r['sources_done'], 1):.2f} s | {r['peak_rss_mb']:.0f} MB ({r['peak_pss_mb']:.0f} MB) "
            f"| {r['articles']} / {r['expected_articles']} | {r['sources_ok']} / {r['feeds']} | {r['state']} "
            f"| {fits} | {r['load_before']:.1f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--feeds", type=int, nargs="+", default=[100, 1000])
    ap.add_argument("--variants", nargs="+", default=["per-source", "batched"], choices=["per-source", "batched"])
    ap.add_argument("--feeds-per-task", type=int, default=20)
    ap.add_argument("--entries", type=int, default=3, help="items per feed (each a distinct page)")
    ap.add_argument("--hosts", type=int, default=25, help="loopback addresses the feeds are spread over")
    ap.add_argument("--timeout", type=float, default=1200, help="stop a run after this many seconds")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--table-from", type=Path, help="print the table of an earlier --json file and exit")
    args = ap.parse_args(argv)
    if args.table_from:
        print(table(json.loads(args.table_from.read_text())))
        return 0
    results = []
    for n in args.feeds:
        for v in args.variants:
            r = measure(v, n, args)
            results.append(r)
            print(json.dumps(r, default=str), file=sys.stderr, flush=True)
    print(f"cores: {os.cpu_count()}, entries per feed: {args.entries}, hosts: {args.hosts}")
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    bad = [r for r in results if not r["timed_out"]
           and (r["articles"] != r["expected_articles"] or r["sources_ok"] != r["feeds"] or r["state"] != "success")]
    for r in bad:
        print(f"CHECK FAILED: {r['variant']} {r['feeds']} feeds: {r['articles']}/{r['expected_articles']} articles, "
              f"{r['sources_ok']}/{r['feeds']} sources ok, run {r['state']}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
