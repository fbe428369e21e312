"""Alembic environment: runs on a connection handed in by ``newsroom.warehouse.migrate``
or on ``sqlalchemy.url`` when called from the ``alembic`` command line."""

from alembic import context
from sqlalchemy import create_engine

from newsroom.warehouse.schema import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


conn = config.attributes.get("connection")
if conn is not None:
    _run(conn)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as c:
        _run(c)
