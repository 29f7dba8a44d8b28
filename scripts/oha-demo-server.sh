# Sourced by the oha scripts (not run): starts the release `tsunagu serve
# --demo` on loopback over the caller's $backend (a PostgreSQL URL, or
# `sqlite` or unset: a fresh SQLite file in $work), waits until it is ready,
# and sets pid, port, token (a demo nurse's bearer token) and family (a demo
# family's id). The binary is $TSUNAGU_BIN, else the release build; the
# caller sets secs for `measure`. The EXIT trap stops the server and
# removes $work. `measure URL CLIENTS` drives oha with the nurse's token;
# `table` (below) prints a comparison with the ceiling.
bin=${TSUNAGU_BIN:-target/release/tsunagu}
command -v oha >/dev/null || { echo "oha not found: cargo install oha --locked" >&2; exit 2; }
[[ -x $bin ]] || { echo "no $bin: cargo build --release -p tsunagu" >&2; exit 2; }
work=$(mktemp -d -t tsunagu-oha.XXXXXX)
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
if [[ ${backend:-sqlite} == sqlite ]]; then db=sqlite://$work/t.sqlite3; else db=$backend; fi
port=$((20000 + RANDOM % 20000))
TSUNAGU_KEY=$(head -c 32 /dev/urandom | xxd -p -c 64) TSUNAGU_LOG=warn \
  "$bin" serve --db "$db" --demo --addr "127.0.0.1:$port" \
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
measure() { # url clients -> "rps p50ms p99ms codes"
  oha --no-tui --output-format json -z "${secs}s" -c "$2" -H "authorization: Bearer $token" "$1" |
    python3 -c '
import json, sys
d = json.load(sys.stdin)
s, p = d["summary"], d["latencyPercentiles"]
codes = ",".join(f"{k}:{v}" for k, v in sorted(d.get("statusCodeDistribution", {}).items()))
print("%.0f %.2f %.2f %s" % (s["requestsPerSec"], p["p50"] * 1000, p["p99"] * 1000, codes))'
}
# `table LABEL PATH CLIENTS...`: a Markdown table, a row per client count:
# the ceiling (/healthz) and PATH (as the nurse) measured in turn, and the
# ratio of their rates.
table() {
  local label=$1 path=$2 c crps rps p50 p99 codes
  shift 2
  echo "| backend | clients | ceiling /healthz req/s | $label req/s | p50/p99 ms | $label ÷ ceiling | status codes |"
  echo "|---|---:|---:|---:|---:|---:|---|"
  for c in "$@"; do
    read -r crps _ _ _ < <(measure "http://127.0.0.1:$port/healthz" "$c")
    read -r rps p50 p99 codes < <(measure "http://127.0.0.1:$port$path" "$c")
    echo "| ${backend%%://*} | $c | $crps | $rps | $p50 / $p99 | $(python3 -c "print(f'{$rps/$crps:.3f}')") | $codes |"
  done
}
