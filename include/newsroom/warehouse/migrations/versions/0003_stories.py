"""Dedup signatures, stories, story membership and merges (owned by the dedup stage)

Also the two lookup tables that keep comparisons incremental: ``lsh_bands``
(MinHash LSH buckets, looked up on their primary key (bucket, band, article)) and ``article_terms`` (an
inverted index of each article's strongest terms, looked up on (term, time)).

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
    op.create_table('story_merges',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('from_story_id', sa.Integer(), nullable=False),
    sa.Column('into_story_id', sa.Integer(), nullable=False),
    sa.Column('bridge_article_id', sa.Integer(), nullable=True),
    sa.Column('merged_at', newsroom.warehouse.schema.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_story_merges')),
    sa.UniqueConstraint('from_story_id', name=op.f('uq_story_merges_from_story_id'))
    )
    op.create_index(op.f('ix_story_merges_into_story_id'), 'story_merges', ['into_story_id'], unique=False)
    op.create_table('article_signatures',
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('text_hash', sa.String(length=64), nullable=True),
    sa.Column('minhash', sa.LargeBinary(), nullable=True),
    sa.Column('shingle_count', sa.Integer(), nullable=False),
    sa.Column('vector', sa.JSON(), nullable=True),
    sa.Column('title_vector', sa.JSON(), nullable=True),
    sa.Column('at', newsroom.warehouse.schema.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('outlet', sa.String(length=200), nullable=True),
    sa.Column('dup_root', sa.Integer(), nullable=True),
    sa.Column('params_version', sa.SmallInteger(), nullable=False),
    sa.Column('created_at', newsroom.warehouse.schema.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_article_signatures_article_id_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('article_id', name=op.f('pk_article_signatures'))
    )
    op.create_index(op.f('ix_article_signatures_at'), 'article_signatures', ['at'], unique=False)
    op.create_index(op.f('ix_article_signatures_dup_root'), 'article_signatures', ['dup_root'], unique=False)
    op.create_index(op.f('ix_article_signatures_text_hash'), 'article_signatures', ['text_hash'], unique=False)
    op.create_table('article_terms',
    sa.Column('term', sa.String(length=64), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('at', newsroom.warehouse.schema.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_article_terms_article_id_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('term', 'article_id', name=op.f('pk_article_terms'))
    )
    op.create_index(op.f('ix_article_terms_article_id'), 'article_terms', ['article_id'], unique=False)
    op.create_index('ix_article_terms_term_at', 'article_terms', ['term', 'at'], unique=False)
    op.create_table('lsh_bands',
    sa.Column('bucket', sa.BigInteger(), nullable=False),
    sa.Column('band', sa.SmallInteger(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_lsh_bands_article_id_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('bucket', 'band', 'article_id', name=op.f('pk_lsh_bands'))
    )
    op.create_index(op.f('ix_lsh_bands_article_id'), 'lsh_bands', ['article_id'], unique=False)
    op.create_table('stories',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('representative_article_id', sa.Integer(), nullable=True),
    sa.Column('first_seen_at', newsroom.warehouse.schema.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', newsroom.warehouse.schema.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('article_count', sa.Integer(), nullable=False),
    sa.Column('outlet_count', sa.Integer(), nullable=False),
    sa.Column('merged_into', sa.Integer(), nullable=True),
    sa.Column('created_at', newsroom.warehouse.schema.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', newsroom.warehouse.schema.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merged_into'], ['stories.id'], name=op.f('fk_stories_merged_into_stories'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['representative_article_id'], ['articles.id'], name=op.f('fk_stories_representative_article_id_articles'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stories'))
    )
    op.create_index(op.f('ix_stories_first_seen_at'), 'stories', ['first_seen_at'], unique=False)
    op.create_index(op.f('ix_stories_last_seen_at'), 'stories', ['last_seen_at'], unique=False)
    op.create_index(op.f('ix_stories_merged_into'), 'stories', ['merged_into'], unique=False)
    op.create_table('story_articles',
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('story_id', sa.Integer(), nullable=False),
    sa.Column('similarity', sa.Float(), nullable=True),
    sa.Column('added_at', newsroom.warehouse.schema.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_story_articles_article_id_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['story_id'], ['stories.id'], name=op.f('fk_story_articles_story_id_stories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('article_id', name=op.f('pk_story_articles'))
    )
    op.create_index(op.f('ix_story_articles_story_id'), 'story_articles', ['story_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_story_articles_story_id'), table_name='story_articles')
    op.drop_table('story_articles')
    op.drop_index(op.f('ix_stories_merged_into'), table_name='stories')
    op.drop_index(op.f('ix_stories_last_seen_at'), table_name='stories')
    op.drop_index(op.f('ix_stories_first_seen_at'), table_name='stories')
    op.drop_table('stories')
    op.drop_index(op.f('ix_lsh_bands_article_id'), table_name='lsh_bands')
    op.drop_table('lsh_bands')
    op.drop_index('ix_article_terms_term_at', table_name='article_terms')
    op.drop_index(op.f('ix_article_terms_article_id'), table_name='article_terms')
    op.drop_table('article_terms')
    op.drop_index(op.f('ix_article_signatures_text_hash'), table_name='article_signatures')
    op.drop_index(op.f('ix_article_signatures_dup_root'), table_name='article_signatures')
    op.drop_index(op.f('ix_article_signatures_at'), table_name='article_signatures')
    op.drop_table('article_signatures')
    op.drop_index(op.f('ix_story_merges_into_story_id'), table_name='story_merges')
    op.drop_table('story_merges')
