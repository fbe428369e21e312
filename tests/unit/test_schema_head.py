"""Tasks never migrate: setup does, under a lock; a task on a schema that is behind fails at once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from newsroom.warehouse import SchemaNotAtHead, connect, dispose_all, migrate_warehouse, open_warehouse
from newsroom.warehouse.db import current_revision, head_revision, migrate

PROJECT = Path(__file__).resolve().parents[2]


def test_open_warehouse_refuses_a_schema_that_is_behind(warehouse_url):
    with pytest.raises(SchemaNotAtHead, match="never migrated.*newsroom migrate"):
        open_warehouse(warehouse_url)
    migrate(connect(warehouse_url), "0003_stories")
    dispose_all()
    with pytest.raises(SchemaNotAtHead, match="0003_stories"):
        open_warehouse(warehouse_url)
    migrate_warehouse(warehouse_url)
    dispose_all()
    engine = open_warehouse(warehouse_url)  # at head: no error, and no migration ran here
    assert current_revision(engine) == head_revision()


@pytest.mark.postgres
def test_four_processes_migrating_a_fresh_postgresql_database_all_succeed():
    from tests.conftest import create_pg_database, require_pg

    require_pg()
    url, drop = create_pg_database()
    code = ("import sys; sys.path[:0] = [sys.argv[2]]\n"
            "from newsroom.warehouse import migrate_warehouse; migrate_warehouse(sys.argv[1]); print('ok')")
    try:
        procs = [subprocess.Popen([sys.executable, "-c", code, url, str(PROJECT / "include")],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
        outs = [p.communicate(timeout=180) for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0, 0], [err[-1500:] for _, err in outs]
        assert current_revision(connect(url)) == head_revision()
    finally:
        drop()
