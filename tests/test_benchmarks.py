"""Every benchmark runs: each one, at a small size, exits 0 and prints its table.

The figures themselves are quoted in the README from full-size runs on a quiet
machine (`make bench`); this keeps the scripts from rotting between those runs
(two of them once failed for weeks after tasks stopped migrating warehouses).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# name → small arguments (each run well under a minute here)
SMALL = {
    "extraction_quality": ["--limit", "8"],
    "extraction_throughput": ["--limit", "8", "--repeat", "1"],
    "dedup_quality": [],
    "dedup_scale": ["--sizes", "300", "--baseline-max", "300"],
    "tagging_quality": [],
    "tagging_throughput": ["--mb", "0.05", "--repeat", "1"],
    "digest_quality": [],
    "fetch_limits": ["--bomb-mib", "2", "--urls", "6", "--delay", "0.01"],
    "reddit_requests": ["--subs", "2", "--limit", "3", "--rpm", "6000"],
    "metrics_requests": ["--entities", "10"],
    "page_metadata_cost": ["--repeat", "1"],
    # a real scheduler (LocalExecutor) over REST: a few minutes, most of it Airflow start-up
    "scale_sources": ["--feeds", "6", "--variants", "batched", "--feeds-per-task", "3", "--entries", "1",
                      "--hosts", "2", "--timeout", "400"],
}


def test_every_benchmark_script_is_listed():
    scripts = {p.stem for p in (ROOT / "benchmarks").glob("*.py")}
    helpers = {"extraction_metric", "extraction_pipeline", "__init__", "fake_apis"}
    assert scripts - helpers - set(SMALL) == set(), "add the new benchmark to SMALL"


@pytest.mark.corpus
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SMALL))
def test_benchmark_runs_and_prints_a_table(name, corpus):
    env = dict(os.environ, PYTHONPATH=f"{ROOT / 'include'}:{ROOT}")
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / f"{name}.py"), *SMALL[name]],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    table_lines = [ln for ln in proc.stdout.splitlines() if ln.count("|") >= 2 or ln.count("  ") >= 3]
    assert len(table_lines) >= 2, f"{name} printed no table:\n{proc.stdout[-2000:]}"
