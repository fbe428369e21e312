"""Requests per entity per day for the figures stage, and wall time for N entities.

    .venv/bin/python benchmarks/metrics_requests.py --entities 250

Synthetic entities (each with a GitHub repository; every 5th also a Hugging Face model and a
PyPI package; every 5th repository without releases; 10 % of the repositories change between
the days) against the local fake APIs (tests/unit/metrics/fake_apis.py, documented shapes and
headers). Day one fills the warehouse; day two is what a daily run costs. "GitHub quota" counts
the GitHub answers that are not 304 (an authorised 304 costs no quota). Baseline: day two with
the stored ETags dropped (what a client without conditional requests pays). Goal: ≤ 0.2 GitHub
quota requests per entity on day two.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "include")]

import yaml  # noqa: E402

from newsroom.metrics.records import ApiEndpoint  # noqa: E402
from newsroom.pipeline.metrics import collect_service  # noqa: E402
from newsroom.settings import Settings  # noqa: E402
from newsroom.warehouse import dispose_all, migrate_warehouse  # noqa: E402
from newsroom.warehouse.schema.metrics import MetricResponse  # noqa: E402
from tests.unit.metrics import fake_apis  # noqa: E402


def entities(n: int) -> dict:
    out = []
    for i in range(n):
        full = f"bench/repo{i:04d}"
        base = (1000 + i, 10, 5, 3)
        fake_apis.REPOS[full] = {1: base, 2: (base[0] + (7 if i % 10 == 0 else 0), *base[1:])}
        if i % 5:
            fake_apis.RELEASES[full] = (f"v{i}", "2026-01-01T00:00:00Z")
        links: dict = {"github": f"https://github.com/{full}"}
        if i % 5 == 0:
            mid = f"bench/model{i:04d}"
            fake_apis.MODELS[mid] = {1: (100 + i, 1000 + i, i), 2: (110 + i, 1010 + i, i)}
            fake_apis.PACKAGES[f"pkg{i:04d}"] = {1: (1, 7, 30), 2: (2, 8, 31)}
            links.update(huggingface=mid, pypi=f"pkg{i:04d}")
        out.append({"id": f"e{i:04d}", "name": f"Entity {i:04d}", "type": "project", "links": links})
    return {"version": 1, "entities": out}


def run_day(settings, apis, day: date) -> tuple[dict[str, int], int, float]:
    hits, used = dict(apis.hits), apis.used
    started = time.perf_counter()
    for service in ("github", "huggingface", "pypistats"):
        collect_service(service, day, settings=settings, run_id=f"bench-{day}",
                        endpoint=ApiEndpoint(service, apis.base_url, "token" if service == "github" else None))
    wall = time.perf_counter() - started
    return {k: apis.hits[k] - hits[k] for k in hits}, apis.used - used, wall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entities", type=int, default=250)
    n = ap.parse_args().entities
    rows = []
    with tempfile.TemporaryDirectory() as tmp, fake_apis.FakeAPIs() as apis:
        path = Path(tmp) / "entities.yaml"
        path.write_text(yaml.safe_dump(entities(n)))
        for label, drop_etags in (("baseline: no ETags", True), ("newsroom (ETag / 304)", False)):
            apis.day = 1
            url = f"sqlite:///{tmp}/{'base' if drop_etags else 'etag'}.db"
            settings = Settings(entities=path, warehouse_url=url, allow_private_networks=True)
            migrate_warehouse(url)  # a fresh warehouse, migrated as setup does (tasks never migrate)
            d1 = run_day(settings, apis, date(2026, 4, 8))
            if drop_etags:
                engine = migrate_warehouse(url)
                with engine.begin() as c:
                    c.execute(MetricResponse.__table__.delete())
            apis.day = 2
            d2 = run_day(settings, apis, date(2026, 4, 9))
            rows.append((label, d1, d2))
        dispose_all()
    print(f"{n} entities ({n} GitHub repositories, {n // 5} HF models, {n // 5} PyPI packages)\n")
    print("| client | day 1 requests | day 1 wall s | day 2 requests | day 2 per entity | "
          "day 2 GitHub quota | quota per entity | day 2 wall s |")
    print("|---|---|---|---|---|---|---|---|")
    for label, (h1, q1, w1), (h2, q2, w2) in rows:
        t1, t2 = sum(h1.values()), sum(h2.values())
        print(f"| {label} | {t1} | {w1:.2f} | {t2} | {t2 / n:.2f} | {q2} | {q2 / n:.3f} | {w2:.2f} |")
    goal = rows[1][2][1] / n
    print(f"\ngoal ≤ 0.2 GitHub quota requests per entity on day two: {'met' if goal <= 0.2 else 'NOT met'} ({goal:.3f})")


if __name__ == "__main__":
    main()
