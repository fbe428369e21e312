"""The warehouse: tables (``schema``), migrations and upserts (``db``).

Two ways in: :func:`migrate_warehouse` for what sets a deployment up (``make run`` /
``make test`` setup, ``airflow-init``, the CLI) and :func:`open_warehouse` for tasks,
which never migrate and fail at once with :class:`SchemaNotAtHead` when the schema is behind.
"""

from sqlalchemy import Engine

from .schema.base import utcnow
from .db import SchemaNotAtHead, WarehouseUnavailable, connect, dispose_all, migrate, require_head, upsert

# What callers above the warehouse hold and pass on (``pipeline/`` never imports SQLAlchemy):
# a connected engine, as :func:`open_warehouse` and :func:`migrate_warehouse` return it.
Warehouse = Engine


def _url(url: str | None) -> str:
    if url is None:
        from newsroom.settings import get_settings

        url = get_settings().resolved_warehouse_url
    return url


def open_warehouse(url: str | None = None) -> Warehouse:
    """Connect to the configured (or given) warehouse; its schema must be at head."""
    engine = connect(_url(url))
    require_head(engine)
    return engine


def migrate_warehouse(url: str | None = None) -> Warehouse:
    """Connect to the configured (or given) warehouse and migrate it to head (under a lock)."""
    engine = connect(_url(url))
    migrate(engine)
    return engine


__all__ = ["SchemaNotAtHead", "Warehouse", "WarehouseUnavailable", "connect", "dispose_all", "migrate", "migrate_warehouse",
           "open_warehouse", "require_head", "upsert", "utcnow"]
