"""The pool under a hostile ``__main__``: what an Airflow task process looks like to it.

Under a scheduler a task's ``__main__`` is the ``airflow`` entry script; a spawn or
forkserver child that re-runs it imports airflow, which dies on the supervisor's
``airflow-db-not-allowed:///`` URL. These tests run a script with the same property
(its top level kills any child process that imports it) in a real subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[3]

SCRIPT = textwrap.dedent('''
    import json, multiprocessing, os, sys
    if multiprocessing.parent_process() is not None:   # imported again in a worker, as __mp_main__
        raise SystemExit("a worker re-imported the caller's __main__")
    from newsroom.extract import pool
    from tests.unit.extract.test_pool import tasks
    if sys.argv[1] == "old-context":                  # what the pool did before: the stock context
        pool._context = lambda: multiprocessing.get_context("forkserver")
    try:
        results = pool.extract_many(tasks(16), workers=2)
    except pool.ExtractionPoolError as exc:
        print(json.dumps({"error": str(exc)}))
    else:
        print(json.dumps({"statuses": [r.status for r in results],
                          "reasons": sorted({r.reason or "" for r in results}),
                          "with_text": sum(bool(r.text) for r in results)}))
''')


def run(tmp_path: Path, mode: str) -> dict:
    script = tmp_path / "entry.py"  # no __main__ guard, like an entry point whose import has side effects
    script.write_text(SCRIPT)
    env = {"PYTHONPATH": f"{PROJECT / 'include'}:{PROJECT}", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, str(script), mode], capture_output=True, text=True, timeout=180,
                         env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_workers_do_not_run_the_callers_main_script(tmp_path):
    got = run(tmp_path, "clean")
    assert got.get("statuses") == ["ok"] * 16, got
    assert got["with_text"] == 16


def test_workers_that_cannot_start_are_a_systemic_error_not_crashed_pages(tmp_path):
    got = run(tmp_path, "old-context")
    assert "error" in got, got  # before: 16 pages 'worker_crashed' and a green task
    assert "cannot start" in got["error"]
