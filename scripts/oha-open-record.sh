#!/usr/bin/env bash
# Open-record throughput under many clients, measured with a real HTTP load
# generator (oha: `cargo install oha --locked`) against a release build of
# `tsunagu serve` on loopback, next to the same service's /healthz (no
# database: the ceiling of the same process, stack and middleware) in the
# same run. Usage: scripts/oha-open-record.sh [sqlite|postgres://URL] [SECONDS]
# Prints one line per client count: req/s and p50/p99 of each, and the ratio.
set -euo pipefail
backend=${1:-sqlite}
secs=${2:-10}
# shellcheck source=scripts/oha-demo-server.sh
source "$(dirname "$0")/oha-demo-server.sh"
echo "| backend | clients | ceiling /healthz req/s | p50/p99 ms | open record req/s | p50/p99 ms | open ÷ ceiling | status codes (open record) |"
echo "|---|---:|---:|---:|---:|---:|---:|---|"
for c in 1 16 64; do
  read -r crps cp50 cp99 _ < <(measure "http://127.0.0.1:$port/healthz" "$c")
  read -r orps op50 op99 codes < <(measure "http://127.0.0.1:$port/api/v1/families/$family" "$c")
  ratio=$(python3 -c "print(f'{$orps/$crps:.3f}')")
  echo "| ${backend%%://*} | $c | $crps | $cp50 / $cp99 | $orps | $op50 / $op99 | $ratio | $codes |"
done
