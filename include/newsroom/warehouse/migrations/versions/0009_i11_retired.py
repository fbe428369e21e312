"""sources.retired_at: a source removed from the sources file is retired, not failing

Revision ID: 0009_i11_retired
Revises: 0008_comment_ranks

A source no longer in the sources file keeps its row (articles and runs cite it) but
is marked retired on the next run: not fetched, not counted as failing, shown apart
on the Newsroom page. Listing it again in the file clears the mark.
"""
import sqlalchemy as sa
from alembic import op

from newsroom.warehouse.schema.base import UTCDateTime

revision = "0009_i11_retired"
down_revision = "0008_comment_ranks"
branch_labels = None
depends_on = None


# Plain ADD/DROP COLUMN, not batch mode: SQLite supports both natively, and batch mode's
# copy-and-rename of the table would break the consumer views that select from it.
def upgrade() -> None:
    op.add_column("sources", sa.Column("retired_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("sources", "retired_at")
