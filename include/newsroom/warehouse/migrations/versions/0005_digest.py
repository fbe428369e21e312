"""Digests, digest items and entity timeline (owned by the digest stage)

Revision ID: 0005_digest
Revises: 0004_entities
"""
from alembic import op
import sqlalchemy as sa
import newsroom.warehouse.schema.base

revision = "0005_digest"
down_revision = "0004_entities"
branch_labels = None
depends_on = None

UTC = newsroom.warehouse.schema.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "digests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("beat", sa.String(length=60), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("markdown", sa.Text(), nullable=False),
        sa.Column("feeds_checked", sa.Integer(), nullable=False),
        sa.Column("subreddits_checked", sa.Integer(), nullable=False),
        sa.Column("articles_count", sa.Integer(), nullable=False),
        sa.Column("stories_count", sa.Integer(), nullable=False),
        sa.Column("window_start", UTC(timezone=True), nullable=True),
        sa.Column("window_end", UTC(timezone=True), nullable=True),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("generated_at", UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digests")),
        sa.UniqueConstraint("day", "beat", name=op.f("uq_digests_day_beat")),
    )
    op.create_index(op.f("ix_digests_day"), "digests", ["day"], unique=False)

    op.create_table(
        "digest_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("beat", sa.String(length=60), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("featured", sa.Boolean(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=True),
        sa.Column("headline", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=60), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("summary_method", sa.String(length=20), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("key_figures", sa.JSON(), nullable=True),
        sa.Column("sources", sa.JSON(), nullable=True),
        sa.Column("entities", sa.JSON(), nullable=True),
        sa.Column("reddit", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_items")),
        sa.UniqueConstraint("day", "beat", "rank", name=op.f("uq_digest_items_day_beat_rank")),
    )
    op.create_index(op.f("ix_digest_items_day"), "digest_items", ["day"], unique=False)
    op.create_index(op.f("ix_digest_items_story_id"), "digest_items", ["story_id"], unique=False)

    op.create_table(
        "entity_timeline",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entity_id", sa.String(length=200), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("beat", sa.String(length=60), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=True),
        sa.Column("story_key", sa.String(length=40), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("digest_title", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entity_timeline")),
        sa.UniqueConstraint(
            "entity_id", "day", "beat", "story_key", name=op.f("uq_entity_timeline_entity_id_day_beat_story_key")
        ),
    )
    op.create_index(op.f("ix_entity_timeline_entity_id"), "entity_timeline", ["entity_id"], unique=False)
    op.create_index(op.f("ix_entity_timeline_day"), "entity_timeline", ["day"], unique=False)

    op.create_table(
        "digest_summary_cache",
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("content_hash", name=op.f("pk_digest_summary_cache")),
    )


def downgrade() -> None:
    op.drop_table("digest_summary_cache")
    op.drop_index(op.f("ix_entity_timeline_day"), table_name="entity_timeline")
    op.drop_index(op.f("ix_entity_timeline_entity_id"), table_name="entity_timeline")
    op.drop_table("entity_timeline")
    op.drop_index(op.f("ix_digest_items_story_id"), table_name="digest_items")
    op.drop_index(op.f("ix_digest_items_day"), table_name="digest_items")
    op.drop_table("digest_items")
    op.drop_index(op.f("ix_digests_day"), table_name="digests")
    op.drop_table("digests")
