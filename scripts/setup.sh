#!/usr/bin/env bash
# Idempotent setup: virtualenv, pinned requirements, Airflow home, migrated
# Airflow metadata and warehouse. Safe to rerun; skips what is already done.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$PROJECT_DIR"

PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating virtualenv $VENV"
  "$PY" -m venv "$VENV"
fi
# make run needs the runtime requirements; make test (NEWSROOM_DEV=1) also the test tools.
reqs=requirements.txt
[ "${NEWSROOM_DEV:-0}" = 1 ] && reqs=requirements-dev.txt
stamp="$VENV/.requirements.sha256"
want="$(cat "$reqs" requirements.txt requirements-lock.txt | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || ! grep -qx "$want" "$stamp"; then
  echo "==> installing pinned requirements from $reqs (first time takes a few minutes)"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -r "$reqs" -c requirements-lock.txt
  echo "$want" >> "$stamp"
fi
# include/ on the venv's path, so `python -c 'import newsroom'` works anywhere.
site="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
printf '%s\n%s\n' "$PROJECT_DIR/include" "$PROJECT_DIR" > "$site/newsroom_project.pth"

mkdir -p "$AIRFLOW_HOME" "$NEWSROOM_DATA_DIR" "$NEWSROOM_OUTPUT_DIR"
# The local login: admin / $NEWSROOM_ADMIN_PASSWORD when set (written every time, so
# changing the variable changes the password), else a generated password kept in the file
# (run.sh prints it). Never a default like "admin".
pwfile="$AIRFLOW_HOME/simple_auth_manager_passwords.json.generated"
if [ -n "${NEWSROOM_ADMIN_PASSWORD:-}" ] || [ ! -f "$pwfile" ]; then
  (umask 077; "$VENV/bin/python" -c 'import json, os, secrets, sys
pw = os.environ.get("NEWSROOM_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
print(json.dumps({"admin": pw}))' > "$pwfile")
  chmod 600 "$pwfile"
fi
echo "==> migrating Airflow metadata ($AIRFLOW__DATABASE__SQL_ALCHEMY_CONN)"
airflow db migrate >"$AIRFLOW_HOME/db-migrate.log" 2>&1 || { cat "$AIRFLOW_HOME/db-migrate.log"; exit 1; }
echo "==> migrating the newsroom warehouse"
"$VENV/bin/python" -m newsroom migrate
# The pools (rate limits shared by all runs) from their one definition, plugins/pools.json:
# reddit_api, page_fetch (article pages), and one per metrics service. A task whose pool is
# missing is never scheduled, so a failure here fails the setup.
echo "==> creating the Airflow pools (plugins/pools.json)"
airflow pools import "$PROJECT_DIR/plugins/pools.json" >"$AIRFLOW_HOME/pools.log" 2>&1 || { cat "$AIRFLOW_HOME/pools.log"; exit 1; }
