"""Feed bytes → entry records (RSS 0.9x/1.0/2.0 and Atom, via feedparser).

See :func:`newsroom.feeds.parse.parse_feed`.
"""
