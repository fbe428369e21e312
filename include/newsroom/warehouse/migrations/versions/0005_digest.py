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


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
