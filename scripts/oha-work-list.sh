#!/usr/bin/env bash
# A nurse's work list under oha, next to /healthz (the same process's
# ceiling) in the same run: `GET /api/v1/worklist?list=due_this_week` (a
# named list: its chips' counts, page, follow-ups and audit line) as the
# demo nurse, at 1, 16 and 64 clients, on a fresh demo.
# Usage: scripts/oha-work-list.sh [sqlite|postgres://URL] [SECONDS]
set -euo pipefail
backend=${1:-sqlite}
secs=${2:-5}
# shellcheck source=scripts/oha-demo-server.sh
source "$(dirname "$0")/oha-demo-server.sh"
table "work list" "/api/v1/worklist?list=due_this_week" 1 16 64
