"""The project's ``plugins/`` folder importable, as it is in every Airflow process
(Airflow appends ``[core] plugins_folder`` to ``sys.path``)."""

import sys

from tests.conftest import PROJECT

PLUGINS = str(PROJECT / "plugins")
if PLUGINS not in sys.path:
    sys.path.append(PLUGINS)
