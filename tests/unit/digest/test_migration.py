from alembic import command
from sqlalchemy import inspect

from newsroom.warehouse import connect, migrate
from newsroom.warehouse.db import alembic_config

DIGEST_TABLES = {"digests", "digest_items", "entity_timeline", "digest_summary_cache"}


def test_0005_digest_upgrades_and_downgrades(warehouse_url):
    engine = connect(warehouse_url)
    migrate(engine)
    assert DIGEST_TABLES <= set(inspect(engine).get_table_names())
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004_entities")
    assert not DIGEST_TABLES & set(inspect(engine).get_table_names())
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0005_digest")
    assert DIGEST_TABLES <= set(inspect(engine).get_table_names())
