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
# airflow standalone alone does not stop cleanly on Ctrl-C (its components get SIGINT and
# SIGTERM at once and it waits on them forever). It runs in a session of its own, and on
# Ctrl-C / SIGTERM this script stops the whole tree: SIGTERM to every process of it, then
# SIGKILL to what is left after STOP_GRACE_S seconds, so nothing outlives `make run`.
STOP_GRACE_S="${NEWSROOM_STOP_GRACE_S:-10}"
setsid airflow standalone &
AIRFLOW_PID=$!

descendants() {  # pids of $1 and everything below it, from one ps snapshot
  ps -e -o pid=,ppid= | awk -v root="$1" '
    { kids[$2] = kids[$2] " " $1 }
    END { n = split(root, todo, " "); while (n > 0) { p = todo[n--]; print p;
          m = split(kids[p], c, " "); for (i = 1; i <= m; i++) todo[++n] = c[i] } }'
}

alive() { for p in "$@"; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }

stop() {
  trap '' INT TERM
  echo "==> stopping Airflow (at most $((STOP_GRACE_S + 2)) s)"
  # the tree, plus anything still in standalone's session that was reparented away from it
  pids=$( { descendants "$AIRFLOW_PID"; ps -e -o pid=,sid= | awk -v s="$AIRFLOW_PID" '$2 == s { print $1 }'; } \
          | sort -un | grep -vx "$$" || true)
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null || true
  for _ in $(seq $((STOP_GRACE_S * 10))); do
    # shellcheck disable=SC2086
    alive $pids || break
    sleep 0.1
  done
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null || true
  kill -KILL -- "-$AIRFLOW_PID" 2>/dev/null || true
  wait "$AIRFLOW_PID" 2>/dev/null || true
  echo "==> stopped"
  exit 0
}
trap stop INT TERM
wait "$AIRFLOW_PID" || true
# standalone ended by itself (an error): stop whatever it left behind
stop
