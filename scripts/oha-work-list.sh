#!/usr/bin/env bash
# A nurse's work list under oha, next to /healthz (the same process's
# ceiling) in the same run: `GET /api/v1/worklist?list=due_this_week` (a
# named list: its chips' counts, page, follow-ups and audit line) as the
# demo nurse, at 1, 16 and 64 clients, on a fresh demo.
# Usage: scripts/oha-work-list.sh [sqlite|postgres://URL] [SECONDS]
set -euo pipefail
backend=${1:-sqlite}
secs=${2:-5}
bin=${TSUNAGU_BIN:-target/release/tsunagu}
if [[ $backend != sqlite ]]; then db=$backend; fi
# shellcheck source=scripts/oha-demo-server.sh
source "$(dirname "$0")/oha-demo-server.sh"
list="http://127.0.0.1:$port/api/v1/worklist?list=due_this_week"
echo "| backend | clients | ceiling /healthz req/s | work list req/s | p50/p99 ms | list ÷ ceiling | status codes |"
echo "|---|---:|---:|---:|---:|---:|---|"
for c in 1 16 64; do
  read -r crps _ _ _ < <(measure "http://127.0.0.1:$port/healthz" "$c")
  read -r lrps lp50 lp99 codes < <(measure "$list" "$c")
  ratio=$(python3 -c "print(f'{$lrps/$crps:.3f}')")
  echo "| ${backend%%://*} | $c | $crps | $lrps | $lp50 / $lp99 | $ratio | $codes |"
done
