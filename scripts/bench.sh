#!/usr/bin/env bash
# Run the benchmarks (`make bench`): each prints its table against its baseline.
# Default: every figure the README quotes. `scripts/bench.sh NAME…` runs only those
# (names as in benchmarks/, without .py). Run it on a quiet machine: the
# throughput figures are wall times.
set -euo pipefail
source "$(dirname "$0")/env.sh"
NEWSROOM_DEV=1 "$PROJECT_DIR/scripts/setup.sh" >/dev/null
cd "$PROJECT_DIR"
default=(extraction_quality extraction_throughput dedup_quality dedup_scale tagging_quality
         tagging_throughput digest_quality fetch_limits reddit_requests metrics_requests)
[ -f benchmarks/scale_sources.py ] && default+=(scale_sources)
names=("$@")
[ ${#names[@]} -eq 0 ] && names=("${default[@]}")
for name in "${names[@]}"; do
  echo "==> benchmarks/$name.py"
  "$VENV/bin/python" "benchmarks/$name.py"
  echo
done
