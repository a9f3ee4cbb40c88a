#!/usr/bin/env bash
# infra/postgres/postgres.sh - run a throw-away local PostgreSQL cluster (initdb in a directory
# of your choice, TCP on 127.0.0.1 only) for the PostgreSQL projection store's tests.
#
#   infra/postgres/postgres.sh start | stop | status | url | --help
#
# See infra/README.md.  The server refuses to run as root: run as root (CI), the script runs
# it as an unprivileged system user (PDL_PG_OS_USER).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
PROG="postgres.sh"
HOST="127.0.0.1"

usage() {
    cat <<EOF
Usage: infra/postgres/postgres.sh <command>

Run a throw-away PostgreSQL cluster bound to $HOST only, with a database for pdl.

Commands:
  start     Find the PostgreSQL binaries (apt-get install postgresql if they are missing
            and we are root), initdb the cluster (first time only), start the server and
            wait until it accepts connections, create the database (first time only),
            then print the libpq URL.  No-op if it already runs.
  stop      Stop the server (pg_ctl stop -m fast).
  status    Print whether it runs.  Exit 0 if running, 3 if not.
  url       Print the libpq URL of the database (postgresql://...), nothing else.
  -h, --help
            This text.

Environment (defaults in brackets):
  PDL_PG_PORT           TCP port on $HOST                          [15432]
  PDL_PG_DATA_DIR       the cluster (cluster/) and its log         [infra/postgres/.data]
  PDL_PG_DATABASE       database to create                         [pdl]
  PDL_PG_ROLE           superuser role of the cluster (no password) [pdl]
  PDL_PG_OS_USER        OS user the server runs as when started by root
                        [postgres if it exists, else pdl-postgres (created)]
  PDL_PG_BIN            directory holding initdb, pg_ctl, postgres  [found, see README]
  PDL_PG_START_TIMEOUT  seconds to wait for readiness                [60]

Authentication is 'trust' on 127.0.0.1: anyone on this machine may connect as any role.
The cluster runs with fsync off: a crash of the machine may lose it.  Never keep real data
in it.  Wipe it:  infra/postgres/postgres.sh stop && rm -rf "\${PDL_PG_DATA_DIR:-infra/postgres/.data}"
EOF
}

say() { printf '%s: %s\n' "$PROG" "$*" >&2; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }

is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }
valid_port() { is_uint "$1" && (($1 > 0 && $1 < 65536)); }
valid_name() { [[ "$1" =~ ^[a-z_][a-z0-9_]{0,62}$ ]]; }

load_settings() {
    PDL_PG_PORT="${PDL_PG_PORT:-15432}"
    valid_port "$PDL_PG_PORT" || die "PDL_PG_PORT must be a TCP port number, got '$PDL_PG_PORT'"
    PDL_PG_DATA_DIR="$(realpath -m -- "${PDL_PG_DATA_DIR:-$SCRIPT_DIR/.data}")"
    PDL_PG_DATABASE="${PDL_PG_DATABASE:-pdl}"
    valid_name "$PDL_PG_DATABASE" || die "PDL_PG_DATABASE must be a lower-case SQL name, got '$PDL_PG_DATABASE'"
    PDL_PG_ROLE="${PDL_PG_ROLE:-pdl}"
    valid_name "$PDL_PG_ROLE" || die "PDL_PG_ROLE must be a lower-case SQL name, got '$PDL_PG_ROLE'"
    PDL_PG_START_TIMEOUT="${PDL_PG_START_TIMEOUT:-60}"
    is_uint "$PDL_PG_START_TIMEOUT" || die "PDL_PG_START_TIMEOUT must be whole seconds, got '$PDL_PG_START_TIMEOUT'"
    CLUSTER="$PDL_PG_DATA_DIR/cluster"
    LOG_FILE="$CLUSTER/postgres.log"
    URL="postgresql://$PDL_PG_ROLE@$HOST:$PDL_PG_PORT/$PDL_PG_DATABASE"
}

# The directory of initdb/pg_ctl/postgres: PDL_PG_BIN, Debian's 15, Debian's newest, pg_config,
# then PATH (on this project's machines /usr/local/bin/initdb links to Debian's 15).
find_bin() {
    local dir candidates=()
    [[ -n "${PDL_PG_BIN:-}" ]] && candidates+=("$PDL_PG_BIN")
    candidates+=(/usr/lib/postgresql/15/bin)
    # shellcheck disable=SC2012  # version directories are plain numbers
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -rn); do candidates+=("$dir"); done
    command -v pg_config >/dev/null 2>&1 && candidates+=("$(pg_config --bindir)")
    command -v initdb >/dev/null 2>&1 && candidates+=("$(dirname "$(realpath "$(command -v initdb)")")")
    for dir in "${candidates[@]}"; do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/postgres" ]]; then
            printf '%s\n' "$dir"
            return 0
        fi
    done
    [[ -n "${PDL_PG_BIN:-}" ]] && warn "PDL_PG_BIN=$PDL_PG_BIN holds no initdb, pg_ctl and postgres"
    return 1
}

install_postgresql() {
    if ((EUID != 0)) || ! command -v apt-get >/dev/null 2>&1; then
        die "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found; install Debian's 'postgresql' package (apt-get install postgresql), or set PDL_PG_BIN to their directory"
    fi
    say "PostgreSQL is missing: apt-get install postgresql"
    # Debian's package would create and start a 'main' cluster on port 5432: not wanted here.
    if [[ ! -e /etc/postgresql-common/createcluster.conf ]]; then
        mkdir -p /etc/postgresql-common
        printf 'create_main_cluster = false\n' >/etc/postgresql-common/createcluster.conf
    fi
    apt-get update -qq >&2 || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2 ||
        die "apt-get install postgresql failed; install it by hand and re-run"
}

# The OS user the server runs as: ourselves, or, as root, an unprivileged system user.
os_user() {
    if ((EUID != 0)); then
        id -un
        return 0
    fi
    local user="${PDL_PG_OS_USER:-}"
    if [[ -z "$user" ]]; then
        user=postgres
        getent passwd postgres >/dev/null || user=pdl-postgres
    fi
    if ! getent passwd "$user" >/dev/null; then
        say "creating system user $user to run PostgreSQL (it refuses to run as root)"
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$user" ||
            die "could not create system user $user; set PDL_PG_OS_USER to an existing unprivileged user"
    fi
    [[ "$user" != root ]] || die "PDL_PG_OS_USER must not be root: PostgreSQL refuses to run as root"
    printf '%s\n' "$user"
}

as_server_user() {   # as_server_user <command...>
    if ((EUID == 0)); then
        runuser -u "$RUN_USER" -- "$@"
    else
        "$@"
    fi
}

# The server user must reach the cluster directory through every parent directory.
check_reachable() {
    as_server_user test -x "$PDL_PG_DATA_DIR" && return 0
    local dir="$PDL_PG_DATA_DIR" blocked=""
    while [[ "$dir" != / ]]; do
        dir="$(dirname "$dir")"
        as_server_user test -x "$dir" || blocked="$dir"
    done
    die "user $RUN_USER cannot reach $PDL_PG_DATA_DIR (no search permission on ${blocked:-a parent}); run: chmod o+x ${blocked:-<parent>}, or choose a PDL_PG_DATA_DIR whose parent directories other users may enter"
}

pg_ctl_() { as_server_user "$BIN/pg_ctl" -D "$CLUSTER" "$@"; }

is_running() { [[ -f "$CLUSTER/PG_VERSION" ]] && pg_ctl_ status >/dev/null 2>&1; }

ready() { pg_isready -q -h "$HOST" -p "$PDL_PG_PORT" -d "$PDL_PG_DATABASE" -U "$PDL_PG_ROLE" -t 2 >/dev/null 2>&1; }

init_cluster() {
    [[ -f "$CLUSTER/PG_VERSION" ]] && return 0
    say "initdb $CLUSTER (superuser $PDL_PG_ROLE, trust on $HOST)"
    mkdir -p "$CLUSTER"
    chmod 700 "$CLUSTER"
    ((EUID != 0)) || chown "$RUN_USER:" "$CLUSTER"
    if ! as_server_user "$BIN/initdb" -D "$CLUSTER" -U "$PDL_PG_ROLE" --auth=trust \
        --encoding=UTF8 --locale=C.UTF-8 >"$PDL_PG_DATA_DIR/initdb.log" 2>&1; then
        tail -n 20 "$PDL_PG_DATA_DIR/initdb.log" >&2
        die "initdb failed (output above, full: $PDL_PG_DATA_DIR/initdb.log)"
    fi
    printf "include = 'pdl.conf'\n" >>"$CLUSTER/postgresql.conf"
}

write_conf() {   # rewritten on every start, so a changed port takes effect
    cat >"$CLUSTER/pdl.conf" <<EOF
# Generated by infra/postgres/postgres.sh on every start - edits here are overwritten.
listen_addresses = '$HOST'
port = $PDL_PG_PORT
# TCP only: no socket directory to own or clean up
unix_socket_directories = ''
# a throw-away test cluster: speed over durability
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
    ((EUID != 0)) || chown "$RUN_USER:" "$CLUSTER/pdl.conf"
}

port_open() {
    # shellcheck disable=SC2016  # $0/$1 are expanded by the inner bash
    timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$HOST" "$1" 2>/dev/null
}

cmd_start() {
    local t0=$SECONDS
    BIN="$(find_bin)" || { install_postgresql; BIN="$(find_bin)" || die "no PostgreSQL binaries even after installing"; }
    RUN_USER="$(os_user)"
    mkdir -p "$PDL_PG_DATA_DIR"
    chmod 711 "$PDL_PG_DATA_DIR"
    exec 9>"$PDL_PG_DATA_DIR/.lock"
    flock -w $((PDL_PG_START_TIMEOUT + 60)) 9 || die "another postgres.sh is busy with $PDL_PG_DATA_DIR"
    check_reachable
    if is_running; then
        say "PostgreSQL already runs on $CLUSTER - nothing to do"
        ready || warn "it does not answer on $HOST:$PDL_PG_PORT (started with another PDL_PG_PORT?)"
        printf '%s\n' "$URL"
        return 0
    fi
    if port_open "$PDL_PG_PORT"; then
        die "port $HOST:$PDL_PG_PORT is already in use by another process; pick another: PDL_PG_PORT=<port> $0 start"
    fi
    init_cluster
    write_conf
    # 9>&-: the server must not inherit (and so hold forever) the data-dir lock
    if ! pg_ctl_ -l "$LOG_FILE" -w -t "$PDL_PG_START_TIMEOUT" start >/dev/null 9>&-; then
        tail -n 30 "$LOG_FILE" >&2 || true
        die "PostgreSQL did not start (log above, full: $LOG_FILE)"
    fi
    local deadline=$((SECONDS + PDL_PG_START_TIMEOUT))
    until pg_isready -q -h "$HOST" -p "$PDL_PG_PORT" -U "$PDL_PG_ROLE" -d postgres -t 2; do
        if ((SECONDS >= deadline)); then
            pg_ctl_ stop -m fast >/dev/null 2>&1 || true
            die "PostgreSQL did not accept connections within ${PDL_PG_START_TIMEOUT}s (log: $LOG_FILE)"
        fi
        sleep 0.2
    done
    if [[ -z "$(psql -h "$HOST" -p "$PDL_PG_PORT" -U "$PDL_PG_ROLE" -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$PDL_PG_DATABASE'")" ]]; then
        createdb -h "$HOST" -p "$PDL_PG_PORT" -U "$PDL_PG_ROLE" "$PDL_PG_DATABASE" ||
            die "could not create database $PDL_PG_DATABASE"
    fi
    say "PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') is ready on $HOST:$PDL_PG_PORT after $((SECONDS - t0))s (cluster $CLUSTER, run as $RUN_USER, log $LOG_FILE)"
    printf '%s\n' "$URL"
}

cmd_stop() {
    if [[ ! -f "$PDL_PG_DATA_DIR/cluster/PG_VERSION" ]]; then
        say "PostgreSQL is not running (no cluster in $PDL_PG_DATA_DIR)"
        return 0
    fi
    BIN="$(find_bin)" || die "PostgreSQL binaries not found (set PDL_PG_BIN)"
    RUN_USER="$(stat -c %U "$CLUSTER")"
    exec 9>"$PDL_PG_DATA_DIR/.lock"
    flock -w 120 9 || die "another postgres.sh is busy with $PDL_PG_DATA_DIR"
    if ! is_running; then
        say "PostgreSQL is not running (cluster $CLUSTER)"
        return 0
    fi
    pg_ctl_ stop -m fast -w -t 60 >/dev/null || die "pg_ctl stop failed (log: $LOG_FILE)"
    say "stopped"
}

cmd_status() {
    if [[ -f "$CLUSTER/PG_VERSION" ]] && BIN="$(find_bin)"; then
        RUN_USER="$(stat -c %U "$CLUSTER")"
        if is_running; then
            if ready; then
                say "running: $URL (cluster $CLUSTER)"
            else
                say "running, but not accepting connections on $HOST:$PDL_PG_PORT (cluster $CLUSTER)"
            fi
            return 0
        fi
    fi
    say "not running (port $PDL_PG_PORT, data dir $PDL_PG_DATA_DIR)"
    return 3
}

cmd_url() { printf '%s\n' "$URL"; }

main() {
    local cmd="${1:-}"
    case "$cmd" in
        -h | --help | help) usage; return 0 ;;
        start | stop | status | url) ;;
        "") usage >&2; return 2 ;;
        *) printf '%s: unknown command: %s\n\n' "$PROG" "$cmd" >&2; usage >&2; return 2 ;;
    esac
    shift
    (($# == 0)) || die "'$cmd' takes no arguments (configure with PDL_PG_* environment variables, see --help)"
    load_settings
    "cmd_$cmd"
}

main "$@"
