"""The layering is checked, not just described: import-linter's contracts in pyproject.toml.

Each contract runs as ``lint-imports --contract ID`` in a subprocess (what CI and a developer
run), and a broken one fails with import-linter's own report of the offending imports.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

CONTRACTS = ["stages-never-import-pipeline", "only-warehouse-speaks-sql", "only-fetch-speaks-http", "stage-order"]
PENDING: dict[str, str] = {}  # a contract that does not hold yet: id → why (strict xfail)


def _lint(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(PROJECT / "include")}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo", *args], cwd=PROJECT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_contracts_are_configured():
    config = tomllib.loads((PROJECT / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert config["root_package"] == "newsroom" and config["include_external_packages"] is True
    ids = [c["id"] for c in config["contracts"]]
    assert ids == CONTRACTS
    for c in config["contracts"]:
        assert not c.get("ignore_imports"), f"{c['id']}: contracts are kept by fixing code, not by ignoring imports"


@pytest.mark.parametrize("contract", [
    pytest.param(c, marks=pytest.mark.xfail(reason=PENDING[c], strict=True)) if c in PENDING else c
    for c in CONTRACTS
])
def test_contract_is_kept(contract):
    run = _lint("--contract", contract)
    assert run.returncode == 0, f"lint-imports --contract {contract} failed:\n{run.stdout}\n{run.stderr}"
    assert "KEPT" in run.stdout and "BROKEN" not in run.stdout


def test_a_broken_contract_is_reported(tmp_path):
    """The check can fail: a contract no code keeps (extract may not import fetch — it does
    not, so protect extract from everyone and the real feeds → extract import breaks it)."""
    config = tmp_path / "contracts.toml"
    config.write_text('[tool.importlinter]\nroot_package = "newsroom"\n\n'
                      '[[tool.importlinter.contracts]]\nid = "probe"\nname = "probe"\ntype = "protected"\n'
                      'protected_modules = ["newsroom.extract"]\nallowed_importers = ["newsroom.cli"]\n')
    run = _lint(str(config))
    assert run.returncode != 0 and "BROKEN" in run.stdout and "newsroom.feeds" in run.stdout


def test_http_and_sql_packages_nobody_imports_yet_stay_out_of_the_stages():
    """import-linter can only protect a package that something imports; these are imported
    by no newsroom module today (psycopg is loaded by SQLAlchemy from the URL), so the
    rule for them is checked on grimp's graph directly: if one appears, only its layer has it."""
    import grimp

    graph = grimp.build_graph("newsroom", include_external_packages=True, cache_dir=None)
    allowed = {"psycopg": "newsroom.warehouse", "psycopg2": "newsroom.warehouse", "requests": "newsroom.fetch",
               "urllib3": "newsroom.fetch", "aiohttp": "newsroom.fetch", "pycurl": "newsroom.fetch"}
    wrong = []
    for package, owner in allowed.items():
        if package not in graph.modules:
            continue
        for importer in graph.find_modules_that_directly_import(package, as_package=True):
            if importer != owner and not importer.startswith(owner + "."):
                wrong.append(f"{importer} imports {package} (only {owner} may)")
    assert not wrong, "\n".join(wrong)
