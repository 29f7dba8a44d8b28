#!/usr/bin/env bash
# Kana search throughput under oha, next to /healthz (the same process's
# ceiling) in the same run: `GET /api/v1/families?q=やまだ&limit=50` as a
# demo nurse, at 1 and 16 clients, on a fresh demo.
# Usage: scripts/oha-kana-search.sh [sqlite|postgres://URL] [SECONDS]
set -euo pipefail
backend=${1:-sqlite}
secs=${2:-5}
# shellcheck source=scripts/oha-demo-server.sh
source "$(dirname "$0")/oha-demo-server.sh"
table "kana search" "/api/v1/families?q=%E3%82%84%E3%81%BE%E3%81%A0&limit=50" 1 16
