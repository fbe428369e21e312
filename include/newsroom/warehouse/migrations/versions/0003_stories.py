"""Dedup signatures, stories, story membership and merges (owned by the dedup stage)

Revision ID: 0003_stories
Revises: 0002_reddit
"""
from alembic import op
import sqlalchemy as sa
import newsroom.warehouse.schema.base

revision = "0003_stories"
down_revision = "0002_reddit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
