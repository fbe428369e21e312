"""``python -m newsroom check-config`` in the form the README gives it works as written
(the project's interpreter, from the project root, no PYTHONPATH), and counts only what
runs as followed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

PROJECT = Path(__file__).resolve().parents[3]
VENV_PY = PROJECT / ".venv" / "bin" / "python"


def _check_config(tmp_path, sources: dict) -> subprocess.CompletedProcess:
    if not VENV_PY.exists():
        pytest.skip("run `make setup` first: the README's command uses the project's .venv")
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(sources))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "NEWSROOM_SOURCES": str(path)}
    assert "PYTHONPATH" not in env
    return subprocess.run([".venv/bin/python", "-m", "newsroom", "check-config"], cwd=PROJECT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_check_config_as_the_readme_writes_it(tmp_path):
    out = _check_config(tmp_path, {"feeds": [{"name": "a", "url": "https://a.example/feed"},
                                             {"name": "b", "url": "https://b.example/feed", "enabled": False}],
                                   "reddit": {"subreddits": [{"name": "LocalLLaMA"},
                                                             {"name": "singularity", "enabled": False}]}})
    assert out.returncode == 0, out.stderr
    assert "1 feeds enabled (1 disabled), 1 subreddits followed (1 disabled)" in out.stdout
    assert "entities" in out.stdout
    readme = (PROJECT / "README.md").read_text()
    assert "`.venv/bin/python -m newsroom check-config`" in readme


def test_check_config_names_the_bad_entry(tmp_path):
    out = _check_config(tmp_path, {"feeds": [{"name": "verge", "url": "ftp://x"}]})
    assert out.returncode == 2
    assert "feeds[0] 'verge' → url" in out.stderr and "Traceback" not in out.stderr
