#!/usr/bin/env bash
# The server's CPU per open-record answer: a figure that holds on a busy
# machine where requests a second do not. Starts the release `tsunagu serve
# --demo` on a fresh SQLite file, warms up for 2 s, then drives
# `GET /api/v1/families/{id}` with oha for SECONDS at CLIENTS connections and
# divides the process's user+system time (/proc/<pid>/stat) by the answers.
# Usage: scripts/oha-cpu-per-answer.sh [CLIENTS] [SECONDS]   (TSUNAGU_BIN=… for another binary)
set -euo pipefail
clients=${1:-16}
secs=${2:-6}
# shellcheck source=scripts/oha-demo-server.sh
source "$(dirname "$0")/oha-demo-server.sh"
url="http://127.0.0.1:$port/api/v1/families/$family"
oha --no-tui -z 2s -c "$clients" -H "authorization: Bearer $token" "$url" >/dev/null
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
before=$(ticks)
out=$(oha --no-tui --output-format json -z "${secs}s" -c "$clients" -H "authorization: Bearer $token" "$url")
after=$(ticks)
hz=$(getconf CLK_TCK)
echo "$out" | python3 -c "
import json, sys
d = json.load(sys.stdin)
n = sum(d['statusCodeDistribution'].values())
cpu_us = ($after - $before) / $hz * 1e6
print(f'clients $clients: {n} answers {d[\"statusCodeDistribution\"]}, server CPU {cpu_us / n:.0f} µs an answer, '
      f'{d[\"summary\"][\"requestsPerSec\"]:.0f} req/s, p50 {d[\"latencyPercentiles\"][\"p50\"] * 1000:.2f} ms')"
