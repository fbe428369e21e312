"""The optional object-storage extras: fully pinned, in lock-step with the lock's fsspec, and
agreeing with the lock wherever they name the same package (one documented exception)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.test_requirements import _lock

PROJECT = Path(__file__).resolve().parents[1]
DIFFERS_FROM_LOCK: dict[str, set[str]] = {"requirements-s3.txt": set(), "requirements-gcs.txt": set()}


def _pins(name: str) -> dict[str, str]:
    pins = {}
    for line in (PROJECT / name).read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        assert "==" in line and not line.startswith("-"), f"{name}: {line!r} is not an exact pin"
        pkg, version = line.split("==", 1)
        pins[re.split(r"\[", pkg)[0].strip().lower().replace("_", "-")] = version.strip()
    return pins


@pytest.mark.parametrize("name,backend", [("requirements-s3.txt", "s3fs"), ("requirements-gcs.txt", "gcsfs")])
def test_extra_is_pinned_and_agrees_with_the_lock(name, backend):
    pins, lock = _pins(name), _lock()
    assert backend in pins and "fsspec" not in pins  # fsspec comes from the lock, never moved
    for pkg, version in pins.items():
        if pkg in lock and pkg not in DIFFERS_FROM_LOCK[name]:
            assert lock[pkg] == version, f"{name}: {pkg}=={version} disagrees with the lock ({lock[pkg]})"
    for pkg in DIFFERS_FROM_LOCK[name]:
        assert pkg in pins and pins[pkg] != lock[pkg]  # the exception is real, or it goes


def test_s3fs_is_the_lock_step_release_of_the_locked_fsspec():
    assert _pins("requirements-s3.txt")["s3fs"] == _lock()["fsspec"]


def test_the_image_can_install_the_extras():
    docker = (PROJECT / "Dockerfile").read_text()
    assert "ARG NEWSROOM_EXTRAS" in docker
    assert "requirements-s3.txt" in docker and "requirements-gcs.txt" in docker
