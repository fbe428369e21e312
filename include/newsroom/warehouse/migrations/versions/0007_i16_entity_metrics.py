"""Entity figures over time: entity_metrics, metric_responses and the v_entity_metrics view

Revision ID: 0007_i16_entity_metrics
Revises: 0006_views

The view's SQL is frozen here like 0006's. Date arithmetic is the one thing SQLite and
PostgreSQL spell differently (``date(d, '-7 days')`` vs ``d - 7``), so that expression is
chosen per dialect; everything else is the same text.
"""
from alembic import op
import sqlalchemy as sa
import newsroom.warehouse.schema.base

revision = "0007_i16_entity_metrics"
down_revision = "0006_views"
branch_labels = None
depends_on = None

UTC = newsroom.warehouse.schema.base.UTCDateTime

# The change over N days: today's value minus the newest good value observed between 2N and N
# days before (a missed run still gives a change; a figure first seen yesterday has no 30-day one).
_BASE = """(SELECT b.value FROM entity_metrics b
            WHERE b.entity_id = m.entity_id AND b.subject = m.subject AND b.metric = m.metric
              AND b.status IN ('ok', 'unchanged') AND b.value IS NOT NULL
              AND b.day <= {minus_n} AND b.day >= {minus_2n}
            ORDER BY b.day DESC LIMIT 1)"""

VIEW = """
    SELECT m.entity_id, e.name AS entity_name, m.service, m.subject, m.metric, m.day,
           m.value, m.value_text, m.status, m.link, m.source_url, m.observed_at,
           CASE WHEN m.day = (SELECT max(l.day) FROM entity_metrics l
                              WHERE l.entity_id = m.entity_id AND l.subject = m.subject AND l.metric = m.metric
                                AND l.status IN ('ok', 'unchanged'))
                THEN {true} ELSE {false} END AS is_latest,
           m.value - {base_1} AS change_1d,
           m.value - {base_7} AS change_7d,
           m.value - {base_30} AS change_30d
    FROM entity_metrics m
    LEFT JOIN entities e ON e.id = m.entity_id
    WHERE m.status IN ('ok', 'unchanged')
"""


def view_sql(dialect: str) -> str:
    def minus(n: int) -> str:
        return f"date(m.day, '-{n} days')" if dialect == "sqlite" else f"(m.day - {n})"

    bases = {f"base_{n}": _BASE.format(minus_n=minus(n), minus_2n=minus(2 * n)) for n in (1, 7, 30)}
    truth = {"true": "1", "false": "0"} if dialect == "sqlite" else {"true": "true", "false": "false"}
    return VIEW.format(**bases, **truth).strip()


def upgrade() -> None:
    op.create_table(
        "entity_metrics",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entity_id", sa.String(length=120), nullable=False),
        sa.Column("service", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=True),
        sa.Column("value_text", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("link", sa.Text(), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=False),
        sa.Column("run_id", sa.String(length=250), nullable=True),
        sa.Column("observed_at", UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entity_metrics")),
        sa.UniqueConstraint("entity_id", "subject", "metric", "day",
                            name=op.f("uq_entity_metrics_entity_id_subject_metric_day")),
    )
    with op.batch_alter_table("entity_metrics", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_entity_metrics_entity_id"), ["entity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_entity_metrics_day"), ["day"], unique=False)
    op.create_table(
        "metric_responses",
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("final_url", sa.Text(), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("fetched_at", UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("url", name=op.f("pk_metric_responses")),
    )
    op.execute("DROP VIEW IF EXISTS v_entity_metrics")
    op.execute(f"CREATE VIEW v_entity_metrics AS {view_sql(op.get_bind().dialect.name)}")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS v_entity_metrics")
    op.drop_table("metric_responses")
    with op.batch_alter_table("entity_metrics", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_entity_metrics_day"))
        batch_op.drop_index(batch_op.f("ix_entity_metrics_entity_id"))
    op.drop_table("entity_metrics")
