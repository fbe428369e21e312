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
# A known local login (admin / $NEWSROOM_ADMIN_PASSWORD, default "admin") instead of a
# password printed once; kept if the file already exists. Local development only.
pwfile="$AIRFLOW_HOME/simple_auth_manager_passwords.json.generated"
if [ ! -f "$pwfile" ]; then
  printf '{"admin": "%s"}\n' "${NEWSROOM_ADMIN_PASSWORD:-admin}" > "$pwfile"
  chmod 600 "$pwfile"
fi
echo "==> migrating Airflow metadata ($AIRFLOW__DATABASE__SQL_ALCHEMY_CONN)"
airflow db migrate >"$AIRFLOW_HOME/db-migrate.log" 2>&1 || { cat "$AIRFLOW_HOME/db-migrate.log"; exit 1; }
echo "==> migrating the newsroom warehouse"
"$VENV/bin/python" -m newsroom migrate
airflow pools set reddit_api 2 "Reddit API: concurrent requests" >/dev/null 2>&1 || true
airflow pools set github_api 1 "GitHub REST: figures (one request at a time)" >/dev/null 2>&1 || true
airflow pools set huggingface_api 1 "Hugging Face Hub: figures" >/dev/null 2>&1 || true
airflow pools set pypistats_api 1 "pypistats.org: figures" >/dev/null 2>&1 || true
