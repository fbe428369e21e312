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

UTC = newsroom.warehouse.schema.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "reddit_posts",
        sa.Column("id", sa.String(length=20), nullable=False),
        sa.Column("subreddit", sa.String(length=100), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=True),
        sa.Column("permalink", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("domain", sa.String(length=255), nullable=True),
        sa.Column("is_self", sa.Boolean(), nullable=False),
        sa.Column("selftext", sa.Text(), nullable=True),
        sa.Column("flair", sa.Text(), nullable=True),
        sa.Column("over_18", sa.Boolean(), nullable=False),
        sa.Column("link_kind", sa.String(length=20), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("via", sa.String(length=10), nullable=False),
        sa.Column("thread_num_comments", sa.Integer(), nullable=True),
        sa.Column("thread_fetched_at", UTC(timezone=True), nullable=True),
        sa.Column("first_seen_at", UTC(timezone=True), nullable=False),
        sa.Column("last_seen_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"], name=op.f("fk_reddit_posts_article_id_articles"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], name=op.f("fk_reddit_posts_source_id_sources"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reddit_posts")),
    )
    with op.batch_alter_table("reddit_posts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reddit_posts_subreddit"), ["subreddit"], unique=False)
        batch_op.create_index(batch_op.f("ix_reddit_posts_created_at"), ["created_at"], unique=False)

    op.create_table(
        "reddit_snapshots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("post_id", sa.String(length=20), nullable=False),
        sa.Column("run_key", sa.String(length=250), nullable=False),
        sa.Column("taken_at", UTC(timezone=True), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("num_comments", sa.Integer(), nullable=False),
        sa.Column("upvote_ratio", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["post_id"], ["reddit_posts.id"], name=op.f("fk_reddit_snapshots_post_id_reddit_posts"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reddit_snapshots")),
        sa.UniqueConstraint("post_id", "run_key", name=op.f("uq_reddit_snapshots_post_id_run_key")),
    )
    with op.batch_alter_table("reddit_snapshots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reddit_snapshots_post_id"), ["post_id"], unique=False)

    op.create_table(
        "reddit_comments",
        sa.Column("id", sa.String(length=20), nullable=False),
        sa.Column("post_id", sa.String(length=20), nullable=False),
        sa.Column("parent_id", sa.String(length=30), nullable=True),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", UTC(timezone=True), nullable=False),
        sa.Column("last_seen_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["reddit_posts.id"], name=op.f("fk_reddit_comments_post_id_reddit_posts"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reddit_comments")),
    )
    with op.batch_alter_table("reddit_comments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reddit_comments_post_id"), ["post_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reddit_comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reddit_comments_post_id"))
    op.drop_table("reddit_comments")
    with op.batch_alter_table("reddit_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reddit_snapshots_post_id"))
    op.drop_table("reddit_snapshots")
    with op.batch_alter_table("reddit_posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reddit_posts_created_at"))
        batch_op.drop_index(batch_op.f("ix_reddit_posts_subreddit"))
    op.drop_table("reddit_posts")
