"""The warehouse: tables (``schema``), migrations and upserts (``db``)."""

from .db import SchemaNotAtHead, WarehouseUnavailable, connect, dispose_all, migrate, upsert


def open_warehouse(url: str | None = None):
    """Connect to the configured (or given) warehouse and migrate it to head."""
    if url is None:
        from newsroom.settings import get_settings

        url = get_settings().resolved_warehouse_url
    engine = connect(url)
    migrate(engine)
    return engine


__all__ = ["SchemaNotAtHead", "WarehouseUnavailable", "connect", "dispose_all", "migrate", "open_warehouse",
           "upsert"]
