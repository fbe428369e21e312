"""Comment ranks are unique per thread: a comment no longer among the top N has rank 0

Revision ID: 0008_comment_ranks
Revises: 0007_i16_entity_metrics

Before this, re-reading a thread refreshed the ranks of the comments in its new
top N and left the others at their old rank, so a thread could hold two comments
at rank 5. Ranks left by the latest read of each thread are kept (that read set
one ``last_seen_at`` on all of its comments); older ones become 0. A partial
unique index then holds ``(post_id, rank)`` unique for every rank above 0.
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_comment_ranks"
down_revision = "0007_i16_entity_metrics"
branch_labels = None
depends_on = None

INDEX = "uq_reddit_comments_post_rank"


def upgrade() -> None:
    op.execute("""
        UPDATE reddit_comments SET rank = 0
        WHERE rank <> 0 AND last_seen_at < (
            SELECT MAX(c2.last_seen_at) FROM reddit_comments c2 WHERE c2.post_id = reddit_comments.post_id)
    """)
    op.create_index(INDEX, "reddit_comments", ["post_id", "rank"], unique=True,
                    sqlite_where=sa.text("rank > 0"), postgresql_where=sa.text("rank > 0"))


def downgrade() -> None:
    op.drop_index(INDEX, table_name="reddit_comments")
