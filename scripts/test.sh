#!/usr/bin/env bash
# Set up (idempotent) and run the whole test suite. Extra args go to pytest.
set -euo pipefail
source "$(dirname "$0")/env.sh"
NEWSROOM_DEV=1 "$PROJECT_DIR/scripts/setup.sh"
cd "$PROJECT_DIR"
exec "$VENV/bin/python" -m pytest -p no:cacheprovider "$@"
