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


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
