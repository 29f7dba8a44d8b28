#!/usr/bin/env bash
# A family's reads under a real HTTP load generator (oha: `cargo install oha
# --locked`) against a release build of `tsunagu serve --demo` on loopback:
# the record, its contacts and its screenings, a demo nurse asking, next to
# the same process's /healthz (no database: the ceiling) in the same run.
# Usage: scripts/oha-family-reads.sh [sqlite|postgres://URL] [SECONDS] [CLIENTS...]
# Prints one line per read and client count: req/s and p50/p99, and the ratio.
set -euo pipefail
backend=${1:-sqlite}
secs=${2:-10}
shift $(($# < 2 ? $# : 2))
clients=("${@:-1}")
# shellcheck source=scripts/oha-demo-server.sh
source "$(dirname "$0")/oha-demo-server.sh"
echo "| backend | read | clients | ceiling req/s | p50/p99 ms | read req/s | p50/p99 ms | read ÷ ceiling | status codes |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---|"
for c in "${clients[@]}"; do
  read -r crps cp50 cp99 _ < <(measure "http://127.0.0.1:$port/healthz" "$c")
  for what in "" /contacts /screenings; do
    read -r rps p50 p99 codes < <(measure "http://127.0.0.1:$port/api/v1/families/$family$what" "$c")
    ratio=$(python3 -c "print(f'{$rps/$crps:.3f}')")
    echo "| ${backend%%://*} | record$what | $c | $crps | $cp50 / $cp99 | $rps | $p50 / $p99 | $ratio | $codes |"
  done
done
