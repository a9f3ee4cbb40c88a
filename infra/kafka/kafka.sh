#!/usr/bin/env bash
# infra/kafka/kafka.sh - run a local single-node Apache Kafka 4.x broker (KRaft, combined
# broker+controller) straight from Maven Central jars.  No Docker, no tarball.
#
#   infra/kafka/kafka.sh start | stop | status | --help
#
# See infra/README.md for the full story.  Everything binds to 127.0.0.1 only.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
PROG="kafka.sh"
LIB_DIR="$SCRIPT_DIR/target/lib"
POM="$SCRIPT_DIR/pom.xml"
LOG4J_BROKER="$SCRIPT_DIR/log4j2.yaml"
LOG4J_TOOLS="$SCRIPT_DIR/tools-log4j2.yaml"
HOST="127.0.0.1"

usage() {
    cat <<EOF
Usage: infra/kafka/kafka.sh <command>

Run a local single-node Apache Kafka broker (KRaft mode, broker+controller in one JVM)
from Maven Central jars, bound to $HOST only.

Commands:
  start     Resolve the jars (first time only), write server.properties, format the
            storage (first time only), start the broker in the background and wait
            until a client can fetch metadata.  No-op if it is already running.
  stop      Stop the broker (SIGTERM, then SIGKILL after KAFKA_STOP_TIMEOUT seconds).
  status    Print whether it runs, its pid and port.  Exit 0 if running, 3 if not.
  -h, --help
            This text.

Environment (defaults in brackets):
  KAFKA_PORT             client (PLAINTEXT) port                [9092]
  KAFKA_CONTROLLER_PORT  KRaft controller port                  [KAFKA_PORT+1]
  KAFKA_DATA_DIR         config, pid, logs and log segments     [infra/kafka/.data]
  KAFKA_HEAP             broker JVM heap flags                  [-Xms256m -Xmx512m]
  KAFKA_START_TIMEOUT    seconds to wait for readiness          [90]
  KAFKA_STOP_TIMEOUT     seconds to wait after SIGTERM          [30]
  KAFKA_SSL_PORT         also listen with TLS, client certificate required [unset: no]
  KAFKA_SASL_SSL_PORT    also listen with SASL (SCRAM-SHA-512/256, PLAIN) over TLS [unset: no]
  KAFKA_SASL_USER        the SASL user created for clients      [pdl]

With KAFKA_SSL_PORT or KAFKA_SASL_SSL_PORT, start also writes (once) a CA, a broker
certificate (SAN IP:$HOST, DNS:localhost), a client certificate, the SASL user's password,
and tls/client.env: the PDL_TEST_KAFKA_* variables a client (or the test suite) needs.

Files in KAFKA_DATA_DIR: server.properties, kafka.pid, kafka.out (stdout/stderr),
logs/server.log (log4j2, INFO), kraft-logs/ (partitions + metadata), cluster.id,
tls/ (secured listeners only: ca.pem, client.pem, client.key, sasl.password, client.env).
Wipe all state:  infra/kafka/kafka.sh stop && rm -rf "\${KAFKA_DATA_DIR:-infra/kafka/.data}"
EOF
}

# ----------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------
say() { printf '%s: %s\n' "$PROG" "$*"; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }

is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }
valid_port() { is_uint "$1" && (($1 > 0 && $1 < 65536)); }

now() { printf '%s' "${EPOCHREALTIME:-$(date +%s.%N)}"; }
elapsed_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

load_settings() {
    KAFKA_PORT="${KAFKA_PORT:-9092}"
    valid_port "$KAFKA_PORT" || die "KAFKA_PORT must be a TCP port number, got '$KAFKA_PORT'"
    KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
    valid_port "$KAFKA_CONTROLLER_PORT" || die "KAFKA_CONTROLLER_PORT must be a TCP port number, got '$KAFKA_CONTROLLER_PORT'"
    ((KAFKA_CONTROLLER_PORT != KAFKA_PORT)) || die "KAFKA_CONTROLLER_PORT must differ from KAFKA_PORT"
    KAFKA_DATA_DIR="${KAFKA_DATA_DIR:-$SCRIPT_DIR/.data}"
    # Canonical absolute path: it is matched against the broker's command line to recognise it.
    KAFKA_DATA_DIR="$(realpath -m -- "$KAFKA_DATA_DIR")"
    KAFKA_HEAP="${KAFKA_HEAP:--Xms256m -Xmx512m}"
    KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
    is_uint "$KAFKA_START_TIMEOUT" || die "KAFKA_START_TIMEOUT must be whole seconds, got '$KAFKA_START_TIMEOUT'"
    KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
    is_uint "$KAFKA_STOP_TIMEOUT" || die "KAFKA_STOP_TIMEOUT must be whole seconds, got '$KAFKA_STOP_TIMEOUT'"

    PID_FILE="$KAFKA_DATA_DIR/kafka.pid"
    PORT_FILE="$KAFKA_DATA_DIR/kafka.ports"       # "<port> <controller port>" of the running broker
    PROPS="$KAFKA_DATA_DIR/server.properties"
    OUT_FILE="$KAFKA_DATA_DIR/kafka.out"
    LOG_DIR="$KAFKA_DATA_DIR/logs"
    SERVER_LOG="$LOG_DIR/server.log"
    KRAFT_DIR="$KAFKA_DATA_DIR/kraft-logs"
    CLUSTER_ID_FILE="$KAFKA_DATA_DIR/cluster.id"
    PROBE_PROPS="$KAFKA_DATA_DIR/probe.properties"
    PROBE_LOG="$KAFKA_DATA_DIR/probe.log"

    KAFKA_SSL_PORT="${KAFKA_SSL_PORT:-}"
    KAFKA_SASL_SSL_PORT="${KAFKA_SASL_SSL_PORT:-}"
    KAFKA_SASL_USER="${KAFKA_SASL_USER:-pdl}"
    [[ -z "$KAFKA_SSL_PORT" ]] || valid_port "$KAFKA_SSL_PORT" || die "KAFKA_SSL_PORT must be a TCP port number, got '$KAFKA_SSL_PORT'"
    [[ -z "$KAFKA_SASL_SSL_PORT" ]] || valid_port "$KAFKA_SASL_SSL_PORT" || die "KAFKA_SASL_SSL_PORT must be a TCP port number, got '$KAFKA_SASL_SSL_PORT'"
    [[ "$KAFKA_SASL_USER" =~ ^[A-Za-z0-9._-]+$ ]] || die "KAFKA_SASL_USER must be letters, digits, '.', '_' or '-', got '$KAFKA_SASL_USER'"
    TLS_DIR="$KAFKA_DATA_DIR/tls"
}

secured() { [[ -n "$KAFKA_SSL_PORT$KAFKA_SASL_SSL_PORT" ]]; }

# The certificates and the SASL password, made once per data dir (kept across restarts, so
# clients keep trusting the same CA).  The broker reads PKCS12 (keystore) and PEM (truststore):
# openssl alone makes both, no keytool needed.
ensure_tls_material() {
    [[ -s "$TLS_DIR/broker.p12" && -s "$TLS_DIR/sasl.password" ]] && return 0
    command -v openssl >/dev/null 2>&1 || die "openssl not found on PATH; it makes the certificates of the secured listeners"
    say "writing a CA, broker and client certificates and a SASL password into $TLS_DIR"
    rm -rf "$TLS_DIR"
    mkdir -p "$TLS_DIR"
    chmod 700 "$TLS_DIR"
    (
        set -e
        cd "$TLS_DIR"
        umask 077
        openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=pdl local test CA" \
            -keyout ca.key -out ca.pem
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout broker.key -out broker.csr
        printf 'subjectAltName=IP:%s,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' "$HOST" >broker.ext
        openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 825 \
            -extfile broker.ext -out broker.pem
        openssl rand -hex 16 >broker.p12.password
        openssl pkcs12 -export -in broker.pem -inkey broker.key -certfile ca.pem -name broker \
            -passout "file:broker.p12.password" -out broker.p12
        openssl req -newkey rsa:2048 -nodes -subj "/CN=$KAFKA_SASL_USER" -keyout client.key -out client.csr
        printf 'extendedKeyUsage=clientAuth\n' >client.ext
        openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 825 \
            -extfile client.ext -out client.pem
        openssl rand -hex 24 >sasl.password
        rm -f broker.csr client.csr broker.ext client.ext
    ) >"$LOG_DIR/tls-material.log" 2>&1 || {
        tail -n 20 "$LOG_DIR/tls-material.log" >&2
        rm -rf "$TLS_DIR"
        die "openssl could not make the certificates (full log: $LOG_DIR/tls-material.log)"
    }
}

# For clients and tests: where to connect and which files to use (no secret in the file itself).
write_client_env() {
    {
        echo "# Written by infra/kafka/kafka.sh start: clients of the secured listeners (set -a; . this)."
        [[ -z "$KAFKA_SSL_PORT" ]] || echo "PDL_TEST_KAFKA_SSL=$HOST:$KAFKA_SSL_PORT"
        [[ -z "$KAFKA_SASL_SSL_PORT" ]] || echo "PDL_TEST_KAFKA_SASL_SSL=$HOST:$KAFKA_SASL_SSL_PORT"
        echo "PDL_TEST_KAFKA_CA=$TLS_DIR/ca.pem"
        echo "PDL_TEST_KAFKA_CLIENT_CERT=$TLS_DIR/client.pem"
        echo "PDL_TEST_KAFKA_CLIENT_KEY=$TLS_DIR/client.key"
        echo "PDL_TEST_KAFKA_USER=$KAFKA_SASL_USER"
        echo "PDL_TEST_KAFKA_PASSWORD_FILE=$TLS_DIR/sasl.password"
    } >"$TLS_DIR/client.env"
}

check_java() {
    command -v java >/dev/null 2>&1 || die "java not found on PATH (Kafka 4 needs Java 17)"
    local line major minor
    line="$(java -version 2>&1 | head -n 1)"
    major="$(sed -E -n 's/.*version "([0-9]+)(\.([0-9]+))?.*/\1 \3/p' <<<"$line")"
    read -r major minor <<<"$major"
    [[ "$major" == 1 ]] && major="$minor"           # "1.8.0_x" -> 8
    is_uint "${major:-}" || die "cannot parse Java version from: $line"
    ((major >= 17)) || die "Kafka 4 needs Java 17 or newer; 'java' on PATH is: $line"
    ((major == 17)) || warn "this project targets Java 17; using: $line"
}

# Read a "<port> <controller port>" pair written at start.
recorded_ports() {
    local p="" c=""
    if [[ -f "$PORT_FILE" ]]; then read -r p c <"$PORT_FILE" || true; fi
    printf '%s %s\n' "${p:-$KAFKA_PORT}" "${c:-$KAFKA_CONTROLLER_PORT}"
}

is_our_broker() {   # is_our_broker <pid>: alive and running kafka.Kafka with this data dir's config
    local cmdline
    [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null || return 1
    cmdline="$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null)" || return 1
    [[ "$cmdline" == *"kafka.Kafka $PROPS "* ]]
}

# Prints the pid of *our* broker (the JVM started with this data dir's server.properties)
# and returns 0; returns 1 if none runs.  A pidfile that points at a dead process, or at a
# process that is not this broker (pid reused), is stale: it is removed with a note.  A broker
# that runs without a pidfile (pidfile deleted by hand) is found by its command line and adopted.
running_pid() {
    local pid=""
    if [[ -f "$PID_FILE" ]]; then
        pid="$(tr -dc '0-9' <"$PID_FILE" || true)"
        if is_our_broker "$pid"; then
            printf '%s\n' "$pid"
            return 0
        fi
        warn "removing stale pidfile $PID_FILE (pid '${pid:-?}' is not a running broker for this data dir)"
        rm -f "$PID_FILE" "$PORT_FILE"
    fi
    for pid in $(pgrep -f 'kafka[.]Kafka ' 2>/dev/null || true); do
        if is_our_broker "$pid"; then
            warn "found a broker for this data dir without pidfile (pid $pid); recording it"
            printf '%s\n' "$pid" >"$PID_FILE"
            printf '%s\n' "$pid"
            return 0
        fi
    done
    return 1
}

# True if something accepts TCP connections on $HOST:$1.
port_open() {
    # shellcheck disable=SC2016  # $0/$1 are expanded by the inner bash
    timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$HOST" "$1" 2>/dev/null
}

port_owner() {
    command -v ss >/dev/null 2>&1 || return 0
    ss -Hltnp "sport = :$1" 2>/dev/null | sed -E 's/^/    /' || true
}

kafka_version() {
    local jars=("$LIB_DIR"/kafka_2.13-*.jar) jar
    jar="${jars[0]##*/kafka_2.13-}"
    printf '%s' "${jar%.jar}"
}

# Resolve the runtime classpath into target/lib with Maven.  Idempotent: a stamp holding the
# pom's checksum says the lib dir is complete and current; the copy goes to a temp dir and is
# moved into place only when Maven succeeded.  A lock serialises concurrent starts.
ensure_lib() {
    local want have="" tmp
    want="$(sha256sum "$POM" | cut -d' ' -f1)"
    [[ -f "$LIB_DIR/.pom.sha256" ]] && have="$(cat "$LIB_DIR/.pom.sha256")"
    [[ "$want" == "$have" ]] && return 0

    command -v mvn >/dev/null 2>&1 || die "mvn (Maven) not found on PATH; it is needed once to fetch the Kafka jars"
    mkdir -p "$SCRIPT_DIR/target"
    (
        flock -w 600 8 || die "timed out waiting for another kafka.sh to finish resolving jars"
        [[ -f "$LIB_DIR/.pom.sha256" && "$(cat "$LIB_DIR/.pom.sha256")" == "$want" ]] && exit 0
        say "resolving Kafka jars with Maven into ${LIB_DIR#"$SCRIPT_DIR/"} (first run only) ..."
        tmp="$SCRIPT_DIR/target/lib.tmp.$$"
        rm -rf "$tmp"
        if ! mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
            -DincludeScope=runtime -DoutputDirectory="$tmp" >"$tmp.log" 2>&1; then
            tail -n 40 "$tmp.log" >&2
            rm -rf "$tmp"
            die "Maven could not resolve the Kafka jars (full output: $tmp.log)"
        fi
        rm -f "$tmp.log"
        printf '%s\n' "$want" >"$tmp/.pom.sha256"
        rm -rf "$LIB_DIR"
        mv "$tmp" "$LIB_DIR"
    ) 8>"$SCRIPT_DIR/target/.resolve.lock"
}

write_props() {
    local listeners="PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT"
    local protocols="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
    [[ -z "$KAFKA_SSL_PORT" ]] || { listeners+=",SSL://$HOST:$KAFKA_SSL_PORT"; protocols+=",SSL:SSL"; }
    [[ -z "$KAFKA_SASL_SSL_PORT" ]] || { listeners+=",SASL_SSL://$HOST:$KAFKA_SASL_SSL_PORT"; protocols+=",SASL_SSL:SASL_SSL"; }
    cat >"$PROPS" <<EOF
# Generated by infra/kafka/kafka.sh on every start - edits here are overwritten.
# Single-node KRaft: this JVM is both broker and (sole) controller.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=$HOST:$KAFKA_CONTROLLER_PORT
listeners=$listeners
advertised.listeners=$listeners
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=$protocols

log.dirs=$KRAFT_DIR
num.network.threads=3
num.io.threads=4

# Topics: created explicitly (AdminClient / TopicCommand); 3 partitions unless asked otherwise.
auto.create.topics.enable=false
num.partitions=3
default.replication.factor=1
min.insync.replicas=1

# Internal topics on a one-node cluster: replication factor 1.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1

# Tests: do not hold back the first consumer-group rebalance.
group.initial.rebalance.delay.ms=0

log.retention.hours=168
EOF
    secured || return 0
    cat >>"$PROPS" <<EOF

# Secured listeners (KAFKA_SSL_PORT / KAFKA_SASL_SSL_PORT); material in $TLS_DIR.
ssl.keystore.type=PKCS12
ssl.keystore.location=$TLS_DIR/broker.p12
ssl.keystore.password=$(cat "$TLS_DIR/broker.p12.password")
ssl.truststore.type=PEM
ssl.truststore.location=$TLS_DIR/ca.pem
# SSL: the client proves itself with a certificate from the CA (mutual TLS).
listener.name.ssl.ssl.client.auth=required
# SASL_SSL: the client proves itself with user and password; TLS protects the wire.
listener.name.sasl_ssl.ssl.client.auth=none
sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256,PLAIN
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$KAFKA_SASL_USER="$(cat "$TLS_DIR/sasl.password")";
EOF
}

# SCRAM credentials live in the KRaft metadata: added at format time (fresh storage), or
# through the plaintext listener once the broker runs (storage formatted before).
scram_arguments() {
    local password mech
    password="$(cat "$TLS_DIR/sasl.password")"
    for mech in SCRAM-SHA-512 SCRAM-SHA-256; do
        printf -- '--add-scram\n%s=[name=%s,password=%s]\n' "$mech" "$KAFKA_SASL_USER" "$password"
    done
}

ensure_scram_users() {
    [[ -n "$KAFKA_SASL_SSL_PORT" ]] || return 0
    [[ -f "$TLS_DIR/scram.$KAFKA_SASL_USER" ]] && return 0
    local password mech
    password="$(cat "$TLS_DIR/sasl.password")"
    : >"$LOG_DIR/scram-users.log"
    # one mechanism per request: the broker refuses two changes of one user in a request
    for mech in SCRAM-SHA-512 SCRAM-SHA-256; do
        java_tool kafka.admin.ConfigCommand --bootstrap-server "$HOST:$KAFKA_PORT" --alter \
            --entity-type users --entity-name "$KAFKA_SASL_USER" \
            --add-config "$mech=[password=$password]" >>"$LOG_DIR/scram-users.log" 2>&1 || {
            tail -n 20 "$LOG_DIR/scram-users.log" | sed "s/$password/<password>/g" >&2
            die "could not create the SCRAM user $KAFKA_SASL_USER (the broker runs; log: $LOG_DIR/scram-users.log)"
        }
    done
    : >"$TLS_DIR/scram.$KAFKA_SASL_USER"
}

java_tool() {   # java_tool <main class> [args...]  -- run a Kafka CLI class from the jars
    java -Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$LOG4J_TOOLS" -cp "$LIB_DIR/*" "$@"
}

format_storage() {
    # Already formatted: nothing to do.  (Changing KAFKA_PORT/KAFKA_CONTROLLER_PORT later is fine:
    # a single-voter KRaft quorum re-registers its new controller endpoint on start.)
    [[ -f "$KRAFT_DIR/meta.properties" ]] && return 0
    local cid
    if [[ -s "$CLUSTER_ID_FILE" ]]; then
        cid="$(cat "$CLUSTER_ID_FILE")"
    else
        cid="$(java_tool kafka.tools.StorageTool random-uuid)" || die "StorageTool random-uuid failed"
        printf '%s\n' "$cid" >"$CLUSTER_ID_FILE"
    fi
    say "formatting KRaft storage in $KRAFT_DIR (cluster id $cid, standalone controller quorum)"
    # --standalone: a one-voter *dynamic* quorum (KIP-853), the Kafka 4 way for a single node;
    # it requires controller.quorum.bootstrap.servers (and no controller.quorum.voters).
    local scram=()
    if [[ -n "$KAFKA_SASL_SSL_PORT" ]]; then
        mapfile -t scram < <(scram_arguments)
        : >"$TLS_DIR/scram.$KAFKA_SASL_USER"
    fi
    if ! java_tool kafka.tools.StorageTool format --config "$PROPS" --cluster-id "$cid" --standalone \
        "${scram[@]}" >"$LOG_DIR/storage-format.log" 2>&1; then
        rm -f "$TLS_DIR/scram.$KAFKA_SASL_USER"
        tail -n 20 "$LOG_DIR/storage-format.log" >&2 || true
        die "formatting storage failed (output above, full log: $LOG_DIR/storage-format.log)"
    fi
}

# Print what the broker wrote since this start (offsets captured just before launching it).
show_logs() {
    local f off
    {
        for f in "$OUT_FILE" "$SERVER_LOG"; do
            off=0
            [[ "$f" == "$OUT_FILE" ]] && off="${OUT_OFFSET:-0}"
            [[ "$f" == "$SERVER_LOG" ]] && off="${LOG_OFFSET:-0}"
            (($(file_size "$f") >= off)) || off=0      # rotated meanwhile
            echo "----- $f (last lines of this start) -----"
            tail -c +$((off + 1)) "$f" 2>/dev/null | tail -n 40 || true
        done
        echo "-----"
    } >&2
}

file_size() { stat -c %s "$1" 2>/dev/null || echo 0; }

# One real client round trip: an AdminClient lists topics (a Metadata request), which the
# broker only answers once it has caught up with the metadata log and been unfenced.
probe_ready() {
    local budget="$1"
    ((budget < 5)) && budget=5
    ((budget > 30)) && budget=30
    timeout "$budget" java -Xms32m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$LOG4J_TOOLS" -cp "$LIB_DIR/*" \
        org.apache.kafka.tools.TopicCommand --bootstrap-server "$HOST:$KAFKA_PORT" \
        --command-config "$PROBE_PROPS" --list >>"$PROBE_LOG" 2>&1
}

kill_and_wait() {   # kill_and_wait <pid> <seconds>: SIGTERM, wait, then SIGKILL
    local pid="$1" secs="$2" t0
    kill -TERM "$pid" 2>/dev/null || return 0
    t0="$SECONDS"
    while kill -0 "$pid" 2>/dev/null; do
        if ((SECONDS - t0 >= secs)); then
            warn "pid $pid still alive ${secs}s after SIGTERM; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            t0="$SECONDS"
            while kill -0 "$pid" 2>/dev/null && ((SECONDS - t0 < 5)); do sleep 0.1; done
            break
        fi
        sleep 0.2
    done
}

# ----------------------------------------------------------------------------------------
# commands
# ----------------------------------------------------------------------------------------
cmd_start() {
    local t0 pid p c
    t0="$(now)"
    check_java
    mkdir -p "$KAFKA_DATA_DIR" "$LOG_DIR"

    # Serialise start/stop on this data dir.
    exec 9>"$KAFKA_DATA_DIR/.lock"
    flock -w $((KAFKA_START_TIMEOUT + 120)) 9 || die "another kafka.sh is busy with $KAFKA_DATA_DIR"

    if pid="$(running_pid)"; then
        read -r p c < <(recorded_ports)
        say "Kafka is already running (pid $pid) on $HOST:$p - nothing to do"
        ((p == KAFKA_PORT)) || warn "it listens on port $p, not KAFKA_PORT=$KAFKA_PORT"
        return 0
    fi

    local port
    for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" $KAFKA_SSL_PORT $KAFKA_SASL_SSL_PORT; do
        if port_open "$port"; then
            {
                echo "$PROG: error: port $HOST:$port is already in use by another process:"
                port_owner "$port"
                echo "    Stop that process, or pick other ports: KAFKA_PORT=<port> $0 start"
            } >&2
            exit 1
        fi
    done

    ensure_lib
    if secured; then ensure_tls_material; write_client_env; fi
    write_props
    format_storage
    cat >"$PROBE_PROPS" <<EOF
# AdminClient settings for kafka.sh's readiness probe: fail fast, the script retries.
request.timeout.ms=3000
default.api.timeout.ms=5000
socket.connection.setup.timeout.ms=1000
socket.connection.setup.timeout.max.ms=2000
reconnect.backoff.max.ms=500
retry.backoff.max.ms=500
EOF

    # shellcheck disable=SC2206  # KAFKA_HEAP is deliberately word-split into JVM flags
    local jvm=($KAFKA_HEAP -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20
        -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent
        -XX:MaxInlineLevel=15 -Djava.awt.headless=true
        -Dlog4j2.configurationFile="$LOG4J_BROKER" -Dkafka.logs.dir="$LOG_DIR")
    printf '\n===== %s kafka.sh start (port %s, controller %s) =====\n' \
        "$(date '+%F %T')" "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" >>"$OUT_FILE"
    : >"$PROBE_LOG"
    OUT_OFFSET="$(file_size "$OUT_FILE")"
    LOG_OFFSET="$(file_size "$SERVER_LOG")"
    # nohup + no job control: the JVM ignores SIGHUP/SIGINT from the terminal that ran start.
    # 9>&-: the broker must not inherit (and so hold forever) the data-dir lock.
    nohup java "${jvm[@]}" -cp "$LIB_DIR/*" kafka.Kafka "$PROPS" >>"$OUT_FILE" 2>&1 </dev/null 9>&- &
    pid=$!
    printf '%s\n' "$pid" >"$PID_FILE"
    printf '%s %s\n' "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" >"$PORT_FILE"
    say "started Kafka $(kafka_version) (pid $pid), waiting up to ${KAFKA_START_TIMEOUT}s for $HOST:$KAFKA_PORT ..."

    # Interrupted while waiting: do not leave a half-started broker behind.
    trap 'warn "interrupted; stopping broker pid '"$pid"'"; kill_and_wait '"$pid"' 10; rm -f "$PID_FILE" "$PORT_FILE"; exit 130' INT TERM

    local deadline=$((SECONDS + KAFKA_START_TIMEOUT))
    while :; do
        if ! kill -0 "$pid" 2>/dev/null; then
            rm -f "$PID_FILE" "$PORT_FILE"
            show_logs
            die "the broker process exited during startup (logs above; full: $OUT_FILE, $SERVER_LOG)"
        fi
        if port_open "$KAFKA_PORT" && probe_ready $((deadline - SECONDS + 2)); then
            break
        fi
        if ((SECONDS >= deadline)); then
            show_logs
            warn "not ready after ${KAFKA_START_TIMEOUT}s; stopping pid $pid"
            kill_and_wait "$pid" 10
            rm -f "$PID_FILE" "$PORT_FILE"
            die "Kafka did not become ready within ${KAFKA_START_TIMEOUT}s (KAFKA_START_TIMEOUT); probe output: $PROBE_LOG"
        fi
        sleep 0.5
    done
    trap - INT TERM
    ensure_scram_users
    say "Kafka $(kafka_version) is ready on $HOST:$KAFKA_PORT (pid $pid, controller $HOST:$KAFKA_CONTROLLER_PORT) after $(elapsed_since "$t0")s"
    say "data dir $KAFKA_DATA_DIR, log $SERVER_LOG"
    [[ -z "$KAFKA_SSL_PORT" ]] || say "TLS (client certificate required) on $HOST:$KAFKA_SSL_PORT"
    [[ -z "$KAFKA_SASL_SSL_PORT" ]] || say "SASL_SSL (SCRAM-SHA-512/256, PLAIN; user $KAFKA_SASL_USER) on $HOST:$KAFKA_SASL_SSL_PORT"
    if secured; then say "client files and variables: $TLS_DIR/client.env"; fi
}

cmd_stop() {
    local pid p c
    if [[ ! -d "$KAFKA_DATA_DIR" ]]; then
        say "Kafka is not running (no data dir $KAFKA_DATA_DIR)"
        return 0
    fi
    exec 9>"$KAFKA_DATA_DIR/.lock"
    flock -w 120 9 || die "another kafka.sh is busy with $KAFKA_DATA_DIR"
    if ! pid="$(running_pid)"; then
        say "Kafka is not running (data dir $KAFKA_DATA_DIR)"
        return 0
    fi
    read -r p c < <(recorded_ports)
    say "stopping Kafka (pid $pid, port $p) ..."
    kill_and_wait "$pid" "$KAFKA_STOP_TIMEOUT"
    if kill -0 "$pid" 2>/dev/null; then
        die "pid $pid survived SIGKILL?!"
    fi
    rm -f "$PID_FILE" "$PORT_FILE"
    say "stopped"
}

cmd_status() {
    local pid p c
    if pid="$(running_pid)"; then
        read -r p c < <(recorded_ports)
        if port_open "$p"; then
            say "running: pid $pid, port $p (bootstrap $HOST:$p), controller port $c, data dir $KAFKA_DATA_DIR"
        else
            say "running: pid $pid, port $p (NOT accepting connections yet/anymore), controller port $c, data dir $KAFKA_DATA_DIR"
        fi
        return 0
    fi
    say "not running (port $KAFKA_PORT, data dir $KAFKA_DATA_DIR)"
    return 3
}

main() {
    local cmd="${1:-}"
    case "$cmd" in
        -h | --help | help) usage; return 0 ;;
        start | stop | status) ;;
        "") usage >&2; return 2 ;;
        *) printf '%s: unknown command: %s\n\n' "$PROG" "$cmd" >&2; usage >&2; return 2 ;;
    esac
    shift
    (($# == 0)) || die "'$cmd' takes no arguments (configure with KAFKA_* environment variables, see --help)"
    load_settings
    "cmd_$cmd"
}

main "$@"
