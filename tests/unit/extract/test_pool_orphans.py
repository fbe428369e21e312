"""A pool whose owner is killed does not outlive it (extract/pool.py: exit_with_parent).

Killed task processes used to leave their forkserver and workers behind, orphaned under
init, for as long as the machine ran. Here a real owner process starts the pool, runs a
page-less warm-up, reports its workers' and forkserver's pids, and SIGKILLs itself: no
shutdown, no atexit. Every one of those processes must be gone within seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

OWNER = r"""
import json, os, signal, multiprocessing.forkserver as fsv
from newsroom.extract.pool import _POOL
ex = _POOL.get(2)
workers = sorted({f.result(timeout=120) for f in [ex.submit(os.getpid) for _ in range(8)]})
print(json.dumps({"workers": workers, "forkserver": fsv._forkserver._forkserver_pid}), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_and_forkserver_exit_when_the_owner_is_killed():
    env = dict(os.environ, PYTHONPATH=f"{ROOT / 'include'}:{ROOT}")
    proc = subprocess.run([sys.executable, "-c", OWNER], env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == -9, proc.stderr[-2000:]
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    pids = [*info["workers"], info["forkserver"]] if info["forkserver"] else info["workers"]
    assert info["workers"], info
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.2)
    left = [p for p in pids if _alive(p)]
    for p in left:  # don't leave them behind even when the test fails
        try:
            os.kill(p, 9)
        except ProcessLookupError:
            pass
    assert not left, f"still running after the owner was killed: {left} (of {pids})"
