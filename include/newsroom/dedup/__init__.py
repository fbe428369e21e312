"""Duplicates and stories, pure over records: canonical URLs (``urls``), text features
(``text``, ``terms``), pair decisions (``links``) and the incremental engine's decisions
(``engine``). It reads and writes no table: ``warehouse/stories.py`` does, and
``pipeline/stories.py`` sequences the two (docs/dedup.md)."""
