"""Reddit posts, engagement snapshots, comments (owned by the reddit stage)

Revision ID: 0002_reddit
Revises: 0001_core
"""
from alembic import op
import sqlalchemy as sa
import newsroom.warehouse.schema.base

revision = "0002_reddit"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
