"""sources.retired_at: a source removed from the sources file is retired, not failing

Revision ID: 0007_i11_retired
Revises: 0006_views

A source no longer in the sources file keeps its row (articles and runs cite it) but
is marked retired on the next run: not fetched, not counted as failing, shown apart
on the Newsroom page. Listing it again in the file clears the mark.
"""
import sqlalchemy as sa
from alembic import op

from newsroom.warehouse.schema.base import UTCDateTime

revision = "0007_i11_retired"
down_revision = "0006_views"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("retired_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("retired_at")
