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
bin=${TSUNAGU_BIN:-target/release/tsunagu}
command -v oha >/dev/null || { echo "oha not found: cargo install oha --locked" >&2; exit 2; }
[[ -x $bin ]] || { echo "no $bin: cargo build --release -p tsunagu" >&2; exit 2; }
work=$(mktemp -d -t tsunagu-cpu.XXXXXX)
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000))
TSUNAGU_KEY=$(head -c 32 /dev/urandom | xxd -p -c 64) TSUNAGU_LOG=warn \
  "$bin" serve --db "sqlite://$work/t.sqlite3" --demo --addr "127.0.0.1:$port" \
  --checkpoint-file "$work/cp.jsonl" >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.5
done
otp=$("$bin" totp I2L4HB7OLFVWBJG5VFBXIZS4FHT5TSOJ)
token=$(curl -fsS -H 'content-type: application/json' \
  -d "{\"municipality\":\"131121\",\"username\":\"nurse\",\"password\":\"tsunagu-demo-nurse\",\"otp\":\"$otp\"}" \
  "http://127.0.0.1:$port/api/v1/auth/token" | sed -E 's/.*"token":"([^"]+)".*/\1/')
family=$(curl -fsS -H "authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/families?q=やまだ" |
  grep -oE '"family_id":[0-9]+' | head -1 | cut -d: -f2)
[[ -n $family ]] || { echo "no family found in the demo" >&2; exit 1; }
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
