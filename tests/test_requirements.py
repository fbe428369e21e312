"""requirements.txt names every distribution the product imports directly; test tools stay in
requirements-dev.txt; every pin agrees with the lock."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
LOCAL = {"newsroom", "newsroom_hooks", "newsroom_assets", "newsroom_failures", "newsroom_ui", "tests"}
TEST_TOOLS = {"pytest", "pytest-xdist", "hypothesis", "playwright"}


def _names(path: Path) -> set[str]:
    pins = set()
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            pins.add(re.split(r"[\[=<>~!]", line)[0].strip().lower().replace("_", "-"))
    return pins


def _lock() -> dict[str, str]:
    out = {}
    for line in (PROJECT / "requirements-lock.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            out[name.strip().lower().replace("_", "-")] = version.strip()
    return out


def _imports() -> dict[str, str]:
    """Top-level module → a file importing it, over include/, plugins/, dags/."""
    found: dict[str, str] = {}
    for folder in ("include", "plugins", "dags"):
        for path in (PROJECT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    mods = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    mods = [node.module]
                else:
                    continue
                for m in mods:
                    found.setdefault(m.split(".")[0], str(path.relative_to(PROJECT)))
    return found


def test_every_direct_import_is_a_pinned_runtime_requirement():
    runtime = _names(PROJECT / "requirements.txt")
    dists = packages_distributions()
    missing = []
    for mod, where in sorted(_imports().items()):
        if mod in LOCAL or mod in sys.stdlib_module_names:
            continue
        owners = {d.lower().replace("_", "-") for d in dists.get(mod, [])}
        assert owners, f"{mod} (imported in {where}) is not installed"
        if not owners & runtime:
            missing.append(f"{mod} ({'/'.join(sorted(owners))}, imported in {where})")
    assert not missing, "not in requirements.txt: " + ", ".join(missing)


def test_test_tools_are_dev_only_and_pins_match_the_lock():
    runtime, dev = _names(PROJECT / "requirements.txt"), _names(PROJECT / "requirements-dev.txt")
    assert not runtime & TEST_TOOLS
    assert TEST_TOOLS <= dev
    lock = _lock()
    for path in ("requirements.txt", "requirements-dev.txt"):
        for line in (PROJECT / path).read_text().splitlines():
            line = line.split("#")[0].strip()
            if "==" in line:
                name, version = line.split("==", 1)
                key = re.split(r"\[", name)[0].strip().lower().replace("_", "-")
                assert lock.get(key) == version.strip(), f"{path}: {line} disagrees with the lock ({lock.get(key)})"


def test_the_image_installs_with_the_lock():
    docker = (PROJECT / "Dockerfile").read_text()
    assert "requirements-lock.txt" in docker and "-c /tmp/requirements-lock.txt" in docker
    assert "requirements-dev" not in docker
