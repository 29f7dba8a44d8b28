#!/usr/bin/env bash
# Kana search throughput under oha, next to /healthz (the same process's
# ceiling) in the same run: `GET /api/v1/families?q=やまだ&limit=50` as a
# demo nurse, at 1 and 16 clients, on a fresh demo.
# Usage: scripts/oha-kana-search.sh [sqlite|postgres://URL] [SECONDS]
set -euo pipefail
backend=${1:-sqlite}
secs=${2:-5}
bin=${TSUNAGU_BIN:-target/release/tsunagu}
if [[ $backend != sqlite ]]; then db=$backend; fi
# shellcheck source=scripts/oha-demo-server.sh
source "$(dirname "$0")/oha-demo-server.sh"
search="http://127.0.0.1:$port/api/v1/families?q=%E3%82%84%E3%81%BE%E3%81%A0&limit=50"
echo "| backend | clients | ceiling /healthz req/s | kana search req/s | p50/p99 ms | search ÷ ceiling | status codes |"
echo "|---|---:|---:|---:|---:|---:|---|"
for c in 1 16; do
  read -r crps _ _ _ < <(measure "http://127.0.0.1:$port/healthz" "$c")
  read -r srps sp50 sp99 codes < <(measure "$search" "$c")
  ratio=$(python3 -c "print(f'{$srps/$crps:.3f}')")
  echo "| ${backend%%://*} | $c | $crps | $srps | $sp50 / $sp99 | $ratio | $codes |"
done
