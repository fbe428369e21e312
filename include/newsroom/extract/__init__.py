"""Page bytes → article text and metadata (trafilatura), one page or many in a process pool.

Modules: :mod:`.article` (``extract_article``), :mod:`.pool` (``extract_many``),
:mod:`.text` (``html_to_text`` for feed-carried HTML). Importing this package
does not import trafilatura; the submodules do.
"""
