#!/usr/bin/env bash
# Run the whole tsunagu test suite on a Debian 12 machine (as root).
#
#   scripts/test.sh                    fmt check, clippy, cargo test
#   scripts/test.sh -- --nocapture     extra arguments go to the final `cargo test`
#
# What it does:
#   1. installs missing system packages (PostgreSQL, Chromium + chromedriver,
#      a Japanese font for screenshots); `apt-get update` only if needed;
#   2. starts a throwaway PostgreSQL cluster on a free loopback port
#      (from $TSUNAGU_TEST_PG_PORT, default 55432, upwards) in a temp dir
#      that is stopped and removed on exit, whatever happens;
#   3. exports TSUNAGU_TEST_PG_URL, TSUNAGU_TEST_CHROMEDRIVER and
#      TSUNAGU_TEST_CHROMIUM for the tests, and points TMPDIR at a folder of
#      this run (SQLite files, served folders, Chromium's profiles and its
#      own temp files), removed on exit like the cluster;
#   4. runs `cargo fmt --check`, `cargo clippy -D warnings` and `cargo test`,
#      stopping at the first failure.
#
# TSUNAGU_TEST_ONLY_INFRA=1 stops after step 3 and instead runs smoke checks
# (`select version()` through psql, headless Chromium dumping about:blank).
# Useful to warm or check a machine without building anything.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
run() { step "$*"; "$@"; }

CHROMIUM=/usr/bin/chromium
CHROMEDRIVER=/usr/bin/chromedriver
IPA_FONT=/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf
# Flags for headless Chromium as root on a machine without internet access.
CHROMIUM_FLAGS=(--headless --no-sandbox --disable-gpu --disable-dev-shm-usage
    --no-first-run --disable-background-networking --disable-component-update
    --disable-sync)

# ---------------------------------------------------------------- packages

pg_bin_dir() {
    # Highest installed PostgreSQL major version, e.g. /usr/lib/postgresql/15/bin.
    local dir best="" best_ver=-1 ver
    for dir in /usr/lib/postgresql/*/bin; do
        [[ -x $dir/initdb ]] || continue
        ver=${dir#/usr/lib/postgresql/}
        ver=${ver%/bin}
        [[ $ver =~ ^[0-9]+$ ]] || continue
        if ((ver > best_ver)); then best=$dir best_ver=$ver; fi
    done
    [[ -n $best ]] && printf '%s\n' "$best"
}

install_packages() {
    local missing=()
    pg_bin_dir >/dev/null || missing+=(postgresql)
    [[ -x $CHROMIUM ]] || missing+=(chromium)
    [[ -x $CHROMEDRIVER ]] || missing+=(chromium-driver)
    [[ -f $IPA_FONT ]] || missing+=(fonts-ipafont-gothic)
    if ((${#missing[@]} == 0)); then
        step "system packages present"
        return
    fi
    ((EUID == 0)) || die "missing packages (${missing[*]}); run as root or install them"
    step "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Wait for the dpkg lock rather than failing if another apt is running.
    local apt=(apt-get -q -o DPkg::Lock::Timeout=300)
    "${apt[@]}" update </dev/null
    "${apt[@]}" install -y --no-install-recommends "${missing[@]}" </dev/null
}

# -------------------------------------------------------- throwaway cluster

PG_DIR=""      # temp dir holding data/, log and the Unix socket
PG_BIN=""
PG_PORT=""
PG_STARTED=0

# Run a PostgreSQL tool as the `postgres` user (PostgreSQL refuses root).
as_pg() {
    if ((EUID == 0)); then
        (cd "$PG_DIR" && runuser -u postgres -- "$@")
    else
        (cd "$PG_DIR" && "$@")
    fi
}

port_in_use() {
    timeout 2 bash -c "</dev/tcp/127.0.0.1/$1" 2>/dev/null
}

pg_start() {
    PG_BIN=$(pg_bin_dir) || die "no PostgreSQL found under /usr/lib/postgresql"
    PG_DIR=$(mktemp -d -t tsunagu-pg.XXXXXX)
    if ((EUID == 0)); then chown postgres: "$PG_DIR"; fi

    step "initdb in $PG_DIR ($PG_BIN)"
    as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U tsunagu -E UTF8 \
        --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 ||
        { cat "$PG_DIR/initdb.log" >&2; die "initdb failed"; }

    # Try ports upwards; a port can be taken between the check and the bind
    # (e.g. by a concurrent run), so a failed start also moves on.
    local port=${TSUNAGU_TEST_PG_PORT:-55432} last=$((${TSUNAGU_TEST_PG_PORT:-55432} + 50))
    for ((; port < last; port++)); do
        port_in_use "$port" && continue
        rm -f "$PG_DIR/log"  # fresh log per attempt (pg_ctl creates it as postgres)
        if as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 30 \
            -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
            start >/dev/null 2>&1; then
            PG_PORT=$port
            PG_STARTED=1
            break
        fi
        # Stop a half-started server, if any, before deciding what to do.
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" stop -m immediate >/dev/null 2>&1 || true
        if ! grep -q 'Address already in use' "$PG_DIR/log"; then
            tail -n 20 "$PG_DIR/log" >&2
            die "PostgreSQL failed to start (see log above)"
        fi
        step "port $port taken meanwhile, trying the next one"
    done
    [[ -n $PG_PORT ]] || die "no free port in ${TSUNAGU_TEST_PG_PORT:-55432}..$((last - 1))"

    local i
    for ((i = 0; i < 30; i++)); do
        "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" && break
        sleep 1
    done
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" ||
        { tail -n 20 "$PG_DIR/log" >&2; die "PostgreSQL not ready on port $PG_PORT after 30 s"; }
    step "PostgreSQL ready on 127.0.0.1:$PG_PORT"
}

pg_stop() {
    [[ -n $PG_DIR ]] || return 0
    if ((PG_STARTED)); then
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" stop -m fast >/dev/null 2>&1 ||
            printf 'warning: could not stop PostgreSQL in %s\n' "$PG_DIR" >&2
        PG_STARTED=0
    fi
    rm -rf "$PG_DIR"
    PG_DIR=""
}

RUN_TMP=""     # this run's TMPDIR, removed on exit

cleanup() {
    local rc=$?
    pg_stop
    if [[ -n $RUN_TMP ]]; then
        # A browser a test left running would keep writing into its profile here.
        pkill -9 -f -- "--user-data-dir=$RUN_TMP/" 2>/dev/null || true
        rm -rf "$RUN_TMP" 2>/dev/null || { sleep 1; rm -rf "$RUN_TMP" || printf 'warning: could not remove %s\n' "$RUN_TMP" >&2; }
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------- main

install_packages
pg_start

export TSUNAGU_TEST_PG_URL="postgres://tsunagu@127.0.0.1:$PG_PORT/postgres"
export TSUNAGU_TEST_CHROMEDRIVER=$CHROMEDRIVER
export TSUNAGU_TEST_CHROMIUM=$CHROMIUM
step "TSUNAGU_TEST_PG_URL=$TSUNAGU_TEST_PG_URL"
# What the tests leave behind (a failed test's SQLite file, Chromium's
# org.chromium.* folders) goes with the run, not into /tmp for good.
RUN_TMP=$(mktemp -d -t tsunagu-run.XXXXXX)
export TMPDIR=$RUN_TMP

if [[ ${TSUNAGU_TEST_ONLY_INFRA:-} == 1 ]]; then
    step "smoke: psql"
    "$PG_BIN/psql" "$TSUNAGU_TEST_PG_URL" -X -A -t -c 'select version()'
    # (Debian's launcher may print a harmless "[: unexpected operator" when
    # /dev/shm is mounted twice; stderr of --version is dropped for that.)
    step "smoke: $("$CHROMIUM" --version 2>/dev/null), $("$CHROMEDRIVER" --version | cut -d' ' -f1-2)"
    dom=$(timeout 60 "$CHROMIUM" "${CHROMIUM_FLAGS[@]}" --user-data-dir="$PG_DIR/chromium" \
        --dump-dom about:blank 2>"$PG_DIR/chromium.log") || true
    [[ $dom == *"<body>"* ]] || { tail -n 20 "$PG_DIR/chromium.log" >&2; die "headless Chromium smoke check failed"; }
    printf '%s\n' "$dom"
    step "infrastructure OK (TSUNAGU_TEST_ONLY_INFRA=1, cargo steps skipped)"
    exit 0
fi

# rustup installs into ~/.cargo/bin, which a non-login shell may not have on PATH.
if ! command -v cargo >/dev/null && [[ -x $HOME/.cargo/bin/cargo ]]; then
    PATH=$HOME/.cargo/bin:$PATH
fi
command -v cargo >/dev/null || die "cargo not found; install a Rust toolchain"

locked=()
if [[ -f Cargo.lock ]]; then locked=(--locked); else step "no Cargo.lock: running without --locked"; fi

if cargo fmt --version >/dev/null 2>&1; then
    run cargo fmt --all -- --check
else
    step "rustfmt not installed: skipping format check"
fi

if cargo clippy --version >/dev/null 2>&1; then
    run cargo clippy --workspace --all-targets "${locked[@]}" -- -D warnings
else
    step "clippy not installed: skipping lints"
fi

run cargo test --workspace "${locked[@]}" "$@"
step "all tests passed"
