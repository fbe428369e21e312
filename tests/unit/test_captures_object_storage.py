"""Captures on an fsspec URL: fsspec's in-memory filesystem stands in for object storage
(same code path as ``s3://`` / ``gs://``: everything that is not a local folder goes through
``fsspec.core.url_to_fs``), and a missing backend fails early, naming the extra to install."""

from __future__ import annotations

import gzip
import importlib.util
import uuid

import fsspec
import pytest
from sqlalchemy import select

from newsroom.captures import CaptureStore, StorageBackendMissing
from newsroom.config.sources import SourcesFile
from newsroom.pipeline.ingest import ingest_feed, sync_sources
from newsroom.warehouse.schema import Capture
from tests.unit.test_ingest import site  # noqa: F401  (the fixture: a feed and two pages on 127.0.0.1)


@pytest.fixture
def bucket():
    """A fresh prefix in fsspec's process-wide memory filesystem, removed afterwards."""
    root = f"memory://newsroom-{uuid.uuid4().hex[:8]}"
    yield root
    fs, path = fsspec.core.url_to_fs(root)
    if fs.exists(path):
        fs.rm(path, recursive=True)


def test_memory_store_round_trip_delete_and_no_rewrite(bucket):
    store = CaptureStore(bucket)
    assert store.remote
    ref = store.put(b"<html>body</html>", kind="page")
    fs, path = fsspec.core.url_to_fs(f"{bucket}/captures/{ref.path}")
    stored = fs.cat_file(path)
    assert gzip.decompress(stored) == b"<html>body</html>"  # gzip in the bucket, like on disk
    first = fs.info(path)["created"]
    assert store.put(b"<html>body</html>", kind="page") == ref and fs.info(path)["created"] == first
    assert store.get(ref.path) == b"<html>body</html>"
    assert store.delete(ref.path) is True and not fs.exists(path)
    assert store.delete(ref.path) is False
    with pytest.raises(ValueError):
        store.get("../escape")


def test_feed_ingest_keeps_its_captures_in_the_object_store(site, settings, warehouse, bucket):  # noqa: F811
    """The pipeline with NEWSROOM_DATA_DIR on an fsspec URL: every captures row points at a
    body in the store, and reading it back gives the bytes the server sent."""
    settings = settings.model_copy(update={"data_dir": bucket})
    src = SourcesFile.model_validate({"feeds": [{"name": "local", "url": site.url("/feed.xml"), "outlet": "Local"}]})
    sync_sources(warehouse, src)
    out = ingest_feed("local", settings=settings, sources=src, run_id="r1", engine=warehouse)
    assert out["status"] == "ok" and out["new_articles"] == 3
    with warehouse.connect() as conn:
        rows = conn.execute(select(Capture.kind, Capture.url, Capture.path)).all()
    assert {r.kind for r in rows} >= {"feed", "page"}
    store = CaptureStore(bucket)
    pages = {r.url.split("?")[0]: store.get(r.path) for r in rows if r.kind == "page"}  # links carry utm_*
    assert pages[site.url("/a/0")] == site.routes["/a/0"].body
    assert pages[site.url("/a/1")] == site.routes["/a/1"].body
    feed = next(store.get(r.path) for r in rows if r.kind == "feed")
    assert feed == site.routes["/feed.xml"].body


@pytest.mark.parametrize("root,extra,module", [
    ("s3://newsroom-bucket/data", "requirements-s3.txt", "s3fs"),
    ("gs://newsroom-bucket/data", "requirements-gcs.txt", "gcsfs"),
])
def test_a_missing_backend_names_the_extra_to_install(root, extra, module):
    if importlib.util.find_spec(module) is not None:
        pytest.skip(f"{module} is installed here: the store would open")
    with pytest.raises(StorageBackendMissing) as exc:
        CaptureStore(root)
    assert f"pip install -r {extra}" in str(exc.value) and root in str(exc.value)


def test_an_unknown_protocol_is_a_clear_error():
    with pytest.raises(ValueError, match="knows no protocol 'nosuchfs'"):
        CaptureStore("nosuchfs://x/y")
