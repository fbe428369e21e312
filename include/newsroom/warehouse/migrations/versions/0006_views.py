"""Stable consumer views: articles, stories, digest items, entity mentions, Reddit threads

Revision ID: 0006_views
Revises: 0005_digest

The views are the contract other teams read (docs/warehouse.md): the tables
under them may change shape in later migrations, the views keep their columns.
The SQL is deliberately plain (joins, COALESCE, a correlated subquery with
ORDER BY … LIMIT 1) so the same text runs on SQLite and PostgreSQL. It is frozen
here, not imported, so that this revision means the same thing forever; a later
change to a view is a new migration that drops and re-creates it.
"""
from alembic import op

revision = "0006_views"
down_revision = "0005_digest"
branch_labels = None
depends_on = None

VIEWS: dict[str, str] = {
    "v_articles": """
        SELECT a.id AS article_id,
               a.canonical_url, a.url, a.origin, a.outlet, a.sitename, a.title, a.author, a.language,
               a.published_at, a.first_seen_at,
               COALESCE(a.published_at, a.first_seen_at) AS dated_at,
               a.description, a.text, a.word_count,
               a.extraction_status, a.extraction_reason,
               a.duplicate_of, a.duplicate_kind,
               sa.story_id,
               s.name AS source_name,
               a.updated_at
        FROM articles a
        LEFT JOIN story_articles sa ON sa.article_id = a.id
        LEFT JOIN sources s ON s.id = a.source_id
    """,
    "v_stories": """
        SELECT st.id AS story_id, st.title, st.representative_article_id,
               ra.canonical_url AS representative_url,
               st.first_seen_at, st.last_seen_at, st.article_count, st.outlet_count,
               st.merged_into, st.updated_at
        FROM stories st
        LEFT JOIN articles ra ON ra.id = st.representative_article_id
    """,
    "v_digest_items": """
        SELECT di.day, di.beat, di.rank, di.featured, di.story_id, di.headline, di.category,
               di.summary, di.summary_method, di.score, di.key_figures, di.sources, di.entities, di.reddit,
               d.title AS digest_title, d.path AS digest_path, d.generated_at
        FROM digest_items di
        LEFT JOIN digests d ON d.day = di.day AND d.beat = di.beat
    """,
    "v_entity_mentions": """
        SELECT ae.article_id, ae.entity_id, e.name AS entity_name, e.type AS entity_type,
               ae.mentions, ae.in_title, ae.first_position, ae.salience, ae.implied_by,
               a.outlet, a.title AS article_title, a.canonical_url,
               COALESCE(a.published_at, a.first_seen_at) AS dated_at,
               a.duplicate_of, sa.story_id
        FROM article_entities ae
        JOIN articles a ON a.id = ae.article_id
        LEFT JOIN entities e ON e.id = ae.entity_id
        LEFT JOIN story_articles sa ON sa.article_id = ae.article_id
    """,
    "v_reddit_threads": """
        SELECT p.id AS post_id, p.subreddit, p.title, p.author, p.created_at, p.permalink, p.url, p.domain,
               p.is_self, p.over_18, p.flair, p.link_kind, p.article_id,
               p.first_seen_at, p.last_seen_at,
               COALESCE(p.created_at, p.first_seen_at) AS dated_at,
               s.score, s.num_comments, s.upvote_ratio, s.taken_at AS engagement_at
        FROM reddit_posts p
        LEFT JOIN reddit_snapshots s ON s.id = (
            SELECT s2.id FROM reddit_snapshots s2 WHERE s2.post_id = p.id
            ORDER BY s2.taken_at DESC, s2.id DESC LIMIT 1)
    """,
}


def upgrade() -> None:
    for name, sql in VIEWS.items():
        op.execute(f"DROP VIEW IF EXISTS {name}")
        op.execute(f"CREATE VIEW {name} AS {sql.strip()}")


def downgrade() -> None:
    for name in reversed(list(VIEWS)):
        op.execute(f"DROP VIEW IF EXISTS {name}")
