#!/usr/bin/env bash
# Set up (idempotent) and start Airflow standalone with the newsroom DAGs.
set -euo pipefail
source "$(dirname "$0")/env.sh"
"$PROJECT_DIR/scripts/setup.sh"
cat <<MSG

  newsroom is starting: Airflow UI at http://localhost:${AIRFLOW__API__PORT}
  log in as admin / $(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['admin'])" "$AIRFLOW_HOME/simple_auth_manager_passwords.json.generated" 2>/dev/null || echo "(see the passwords file)")
  (passwords file: $AIRFLOW_HOME/simple_auth_manager_passwords.json.generated)
  DAGs: newsroom_ingest (hourly), newsroom_digest (daily) — unpause them in the UI.
  Warehouse: ${NEWSROOM_WAREHOUSE_URL:-sqlite:///$NEWSROOM_DATA_DIR/warehouse.db}
  Ctrl-C stops everything.

MSG
cd "$PROJECT_DIR"
exec airflow standalone
