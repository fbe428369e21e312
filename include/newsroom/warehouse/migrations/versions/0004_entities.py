"""Tracked entities and article/story tags (owned by the entities stage)

Revision ID: 0004_entities
Revises: 0003_stories
"""
from alembic import op
import sqlalchemy as sa
import newsroom.warehouse.schema.base

revision = "0004_entities"
down_revision = "0003_stories"
branch_labels = None
depends_on = None

UTC = newsroom.warehouse.schema.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "entities",
        sa.Column("id", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("parent_id", sa.String(length=120), nullable=True),
        sa.Column("categories", sa.JSON(), nullable=True),
        sa.Column("aliases", sa.JSON(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("links", sa.JSON(), nullable=True),
        sa.Column("related", sa.JSON(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("entities_hash", sa.String(length=64), nullable=True),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entities")),
    )
    with op.batch_alter_table("entities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_entities_type"), ["type"], unique=False)

    op.create_table(
        "article_entities",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.String(length=120), nullable=False),
        sa.Column("mentions", sa.Integer(), nullable=False),
        sa.Column("in_title", sa.Boolean(), nullable=False),
        sa.Column("first_position", sa.Integer(), nullable=True),
        sa.Column("salience", sa.Float(), nullable=False),
        sa.Column("implied_by", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], name=op.f("fk_article_entities_article_id_articles"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("article_id", "entity_id", name=op.f("pk_article_entities")),
    )
    with op.batch_alter_table("article_entities", schema=None) as batch_op:
        batch_op.create_index("ix_article_entities_entity_id_article_id", ["entity_id", "article_id"], unique=False)

    op.create_table(
        "story_entities",
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.String(length=120), nullable=False),
        sa.Column("article_count", sa.Integer(), nullable=False),
        sa.Column("mentions", sa.Integer(), nullable=False),
        sa.Column("salience", sa.Float(), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("story_id", "entity_id", name=op.f("pk_story_entities")),
    )
    with op.batch_alter_table("story_entities", schema=None) as batch_op:
        batch_op.create_index("ix_story_entities_entity_id", ["entity_id"], unique=False)

    op.create_table(
        "article_tagging",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("entities_hash", sa.String(length=64), nullable=False),
        sa.Column("tagged_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], name=op.f("fk_article_tagging_article_id_articles"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_article_tagging")),
    )
    with op.batch_alter_table("article_tagging", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_article_tagging_entities_hash"), ["entities_hash"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("article_tagging", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_article_tagging_entities_hash"))
    op.drop_table("article_tagging")
    with op.batch_alter_table("story_entities", schema=None) as batch_op:
        batch_op.drop_index("ix_story_entities_entity_id")
    op.drop_table("story_entities")
    with op.batch_alter_table("article_entities", schema=None) as batch_op:
        batch_op.drop_index("ix_article_entities_entity_id_article_id")
    op.drop_table("article_entities")
    with op.batch_alter_table("entities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_entities_type"))
    op.drop_table("entities")
