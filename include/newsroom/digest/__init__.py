"""The daily digest: which day a run covers (``window``), which stories lead
(``ranking``), what they say (``summarize``, ``figures``, ``llm``), how notes
look (``render`` + ``templates/``), how they reach the vault safely (``vault``)
and the whole day put together (``build``). Nothing here imports Airflow.
"""
