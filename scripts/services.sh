#!/usr/bin/env bash
# Private PostgreSQL (PostGIS) and Mosquitto for Siaga, one pair per checkout.
#   scripts/services.sh start    start both (idempotent) and write .siaga/env
#   scripts/services.sh stop     stop both
#   scripts/services.sh status   state, ports and where the data lives
#   scripts/services.sh clean    stop both and delete their data (cluster, broker persistence)
# If SIAGA_DATABASE_URL / SIAGA_MQTT_URL point at other services, those external services are used
# instead and the corresponding private one is not started. The values this script wrote itself
# (.siaga/env, marked by SIAGA_PRIVATE_*) are recognised when exported and do not count as external.
# Roles: the written SIAGA_DATABASE_URL connects as the application role ($SIAGA_APP_ROLE, default
# siaga_app: may log in, owns nothing), SIAGA_MIGRATE_DATABASE_URL as siaga, the owner that runs
# the migrations (docs/evidence.md).
# Ports: SIAGA_PG_PORT / SIAGA_MQTT_PORT pin them; otherwise the saved or default ones (55432,
# 11883) or the next free ports, retried on a bind failure (another checkout may start at once).
# Data: under .siaga/ when run as a normal user. PostgreSQL refuses to run as root and Mosquitto
# drops root to its own user, so as root the data lives where those users can reach it:
# $SIAGA_RUN_BASE/<hash of the checkout's .siaga path>/ (default /var/lib/siaga), recorded in
# .siaga/dirs. A cluster made inside .siaga/ by an earlier version keeps being used.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE=$(realpath -m "${SIAGA_STATE_DIR:-$ROOT/.siaga}")
RUN_BASE=${SIAGA_RUN_BASE:-/var/lib/siaga}
PORT_FILE="$STATE/ports"
DIRS_FILE="$STATE/dirs"
ATTEMPTS=10
PG_PORT=${SIAGA_PG_PORT:-55432}
APP_ROLE=${SIAGA_APP_ROLE:-siaga_app}  # the application's database role (owns nothing)
MQTT_PORT=${SIAGA_MQTT_PORT:-11883}
# Ports chosen on an earlier start are kept (another checkout's services may hold the defaults).
if [ -f "$PORT_FILE" ]; then
  # shellcheck disable=SC1090
  . "$PORT_FILE"
  [ -n "${SIAGA_PG_PORT:-}" ] && PG_PORT=$SIAGA_PG_PORT || PG_PORT=${SAVED_PG_PORT:-$PG_PORT}
  [ -n "${SIAGA_MQTT_PORT:-}" ] && MQTT_PORT=$SIAGA_MQTT_PORT || MQTT_PORT=${SAVED_MQTT_PORT:-$MQTT_PORT}
fi
PG_BIN=$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || dirname "$(command -v pg_ctl)")
IS_ROOT=false; [ "$(id -u)" -eq 0 ] && IS_ROOT=true
# One directory per checkout outside the tree (only used as root).
PRIVATE_DIR="$RUN_BASE/$(printf '%s' "$STATE" | sha256sum | cut -c1-16)"

can_write_as() {  # user path: the service user can reach and write path
  (cd / && runuser -u "$1" -- test -w "$2") 2>/dev/null
}

# PG_HOME holds data/, run/ (socket) and postgres.log; MQDIR holds the broker's files.
PG_HOME="$STATE/pg"
MQDIR="$STATE/mosquitto"
if $IS_ROOT; then
  if ! { [ -f "$STATE/pg/data/PG_VERSION" ] && can_write_as postgres "$STATE/pg/data"; }; then
    PG_HOME="$PRIVATE_DIR/pg"
  fi
  if ! { [ -f "$STATE/mosquitto/mosquitto.conf" ] && can_write_as mosquitto "$STATE/mosquitto/data"; }; then
    MQDIR="$PRIVATE_DIR/mosquitto"
  fi
fi
PGDATA="$PG_HOME/data"
PGSOCK="$PG_HOME/run"
PGLOG="$PG_HOME/postgres.log"

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {  # first free port at or above $1, unless the user pinned it explicitly ($2 = pinned)
  local p=$1
  if [ -n "$2" ]; then echo "$p"; return; fi
  while port_busy "$p"; do p=$((p + 1)); done
  echo "$p"
}

pid_listens() {  # pid port: that process holds the listening TCP socket of the port
  local hex inode
  hex=$(printf ':%04X' "$2")
  for inode in $(awk -v p="$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { print $10 }' \
                   /proc/net/tcp /proc/net/tcp6 2>/dev/null); do
    ls -l "/proc/$1/fd" 2>/dev/null | grep -q "socket:\[$inode\]" && return 0
  done
  return 1
}

save_ports() {
  mkdir -p "$STATE"
  printf 'SAVED_PG_PORT=%s\nSAVED_MQTT_PORT=%s\n' "$PG_PORT" "$MQTT_PORT" > "$PORT_FILE.tmp"
  mv "$PORT_FILE.tmp" "$PORT_FILE"
}

save_dirs() {
  printf 'PG_HOME=%s\nMOSQUITTO_HOME=%s\n' "$PG_HOME" "$MQDIR" > "$DIRS_FILE.tmp"
  mv "$DIRS_FILE.tmp" "$DIRS_FILE"
}

lock_checkout() {  # one start/stop/clean at a time per checkout (daemons are started with 9>&-)
  mkdir -p "$STATE"
  exec 9>"$STATE/lock"
  flock -w 300 9 || { echo "Another services.sh holds $STATE/lock" >&2; exit 1; }
}

make_private_dir() {  # the per-checkout directory outside the tree (as root)
  [ -d "$PRIVATE_DIR" ] && return
  install -d -m 711 "$RUN_BASE" "$PRIVATE_DIR"
  printf '%s\n' "$STATE" > "$PRIVATE_DIR/checkout"
}

as_pg() {  # PostgreSQL refuses to run as root: use the postgres system user then, from a cwd it can enter.
  if $IS_ROOT; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

log_since() { tail -c "+$(($2 + 1))" "$1" 2>/dev/null || true; }  # file offset: text appended after offset
log_size() { stat -c %s "$1" 2>/dev/null || echo 0; }

pg_running() { [ -f "$PGDATA/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; }
pg_port() { sed -n 4p "$PGDATA/postmaster.pid" 2>/dev/null; }  # port of the running server

start_pg() {
  if [ "$PG_HOME" != "$STATE/pg" ]; then make_private_dir; fi
  mkdir -p "$PG_HOME" "$PGSOCK"
  if $IS_ROOT; then chown postgres:postgres "$PG_HOME" "$PGSOCK"; fi
  if [ "$PG_HOME" != "$STATE/pg" ]; then chmod 700 "$PG_HOME"; fi
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    echo "Creating a private PostgreSQL cluster in $PGDATA"
    as_pg "$PG_BIN/initdb" -D "$PGDATA" -U siaga --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    as_pg tee -a "$PGDATA/postgresql.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PGSOCK'
include_if_exists = 'siaga_port.conf'
max_connections = 200
shared_buffers = 256MB
fsync = on
synchronous_commit = on
max_locks_per_transaction = 256
CONF
  fi
  if pg_running; then
    PG_PORT=$(pg_port)
    echo "PostgreSQL already running on port $PG_PORT"
  else
    local attempt offset pinned=${SIAGA_PG_PORT:-}
    for attempt in $(seq "$ATTEMPTS"); do
      PG_PORT=$(free_port "$PG_PORT" "$pinned")
      echo "port = $PG_PORT" | as_pg tee "$PGDATA/siaga_port.conf" >/dev/null
      offset=$(log_size "$PGLOG")
      if as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$PGLOG" -o "-p $PG_PORT" -w -t 60 start >/dev/null 2>&1 9>&-; then
        break
      fi
      if [ -z "$pinned" ] && [ "$attempt" -lt "$ATTEMPTS" ] \
          && log_since "$PGLOG" "$offset" | grep -q -e 'could not bind' -e 'could not create any TCP/IP sockets'; then
        echo "PostgreSQL: port $PG_PORT was taken meanwhile, trying the next one"
        PG_PORT=$((PG_PORT + 1))
        continue
      fi
      echo "PostgreSQL did not start on port $PG_PORT; see $PGLOG:" >&2
      log_since "$PGLOG" "$offset" | tail -n 5 >&2
      exit 1
    done
    echo "PostgreSQL started on 127.0.0.1:$PG_PORT"
  fi
  save_ports
  if ! as_pg "$PG_BIN/psql" -h "$PGSOCK" -p "$PG_PORT" -U siaga -d postgres -Atc "select 1 from pg_database where datname='siaga'" | grep -q 1; then
    as_pg "$PG_BIN/createdb" -h "$PGSOCK" -p "$PG_PORT" -U siaga siaga
  fi
  as_pg "$PG_BIN/psql" -q -h "$PGSOCK" -p "$PG_PORT" -U siaga -d siaga -c "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
  # The application's role: it may log in and owns nothing (docs/evidence.md). Its privileges
  # come from the migrations, which run as siaga (the owner). Idempotent; tolerates a race with
  # a migration creating the role at the same time.
  as_pg "$PG_BIN/psql" -q -h "$PGSOCK" -p "$PG_PORT" -U siaga -d postgres -v ON_ERROR_STOP=1 >/dev/null <<SQL
SET client_min_messages = warning;
DO \$\$ BEGIN CREATE ROLE "$APP_ROLE";
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END \$\$;
ALTER ROLE "$APP_ROLE" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
SQL
}

mq_pid() { [ -f "$MQDIR/mosquitto.pid" ] && cat "$MQDIR/mosquitto.pid" || true; }
mq_running() { local p; p=$(mq_pid); [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }
mq_port() { sed -n 's/^listener \([0-9]*\) .*/\1/p' "$MQDIR/mosquitto.conf" 2>/dev/null | head -n 1; }

write_mosquitto_conf() {
  cat > "$MQDIR/mosquitto.conf" <<CONF
# Generated by scripts/services.sh: a private broker for Siaga development, demo and tests.
per_listener_settings false
listener $MQTT_PORT 127.0.0.1
allow_anonymous true
persistence true
persistence_location $MQDIR/data/
# Save the in-memory store every 100 changes: a PUBACK is sent before the store is saved, so a
# kill -9 loses what was acknowledged since the last save (docs/broker.md has the measured
# window; saving after every change collapses ingest under a surge, BENCHMARKS.md).
autosave_on_changes true
autosave_interval 100
# Persistent sessions must hold a backlog while the ingest worker is down.
max_queued_messages 0
max_queued_bytes 0
max_inflight_messages 0
max_packet_size 1048576
pid_file $MQDIR/mosquitto.pid
log_dest file $MQDIR/mosquitto.log
log_type error
log_type warning
log_type notice
CONF
  if $IS_ROOT; then
    echo "user mosquitto" >> "$MQDIR/mosquitto.conf"
    touch "$MQDIR/mosquitto.log"; chown -R mosquitto "$MQDIR"
  fi
}

start_mqtt() {
  if [ "$MQDIR" != "$STATE/mosquitto" ]; then make_private_dir; fi
  mkdir -p "$MQDIR/data"
  if [ "$MQDIR" != "$STATE/mosquitto" ]; then chmod 700 "$MQDIR"; fi
  if mq_running; then
    MQTT_PORT=$(mq_port)
    echo "Mosquitto already running on port $MQTT_PORT"; save_ports; return
  fi
  local attempt offset pid pinned=${SIAGA_MQTT_PORT:-}
  for attempt in $(seq "$ATTEMPTS"); do
    MQTT_PORT=$(free_port "$MQTT_PORT" "$pinned")
    write_mosquitto_conf
    rm -f "$MQDIR/mosquitto.pid"
    offset=$(log_size "$MQDIR/mosquitto.log")
    (cd "$MQDIR" && mosquitto -d -c "$MQDIR/mosquitto.conf") 9>&-  # the daemon must not hold the lock
    # The daemon writes its pid file once it listens; a bind failure only shows in the log.
    for _ in $(seq 100); do
      pid=$(mq_pid)
      if [ -n "$pid" ] && pid_listens "$pid" "$MQTT_PORT"; then
        save_ports; echo "Mosquitto started on 127.0.0.1:$MQTT_PORT"; return
      fi
      log_since "$MQDIR/mosquitto.log" "$offset" | grep -q 'Error' && break
      sleep 0.1
    done
    if [ -z "$pinned" ] && [ "$attempt" -lt "$ATTEMPTS" ] \
        && log_since "$MQDIR/mosquitto.log" "$offset" | grep -q 'Address already in use'; then
      echo "Mosquitto: port $MQTT_PORT was taken meanwhile, trying the next one"
      MQTT_PORT=$((MQTT_PORT + 1))
      continue
    fi
    pid=$(mq_pid); if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
    echo "Mosquitto did not start on port $MQTT_PORT; see $MQDIR/mosquitto.log:" >&2
    log_since "$MQDIR/mosquitto.log" "$offset" | tail -n 5 >&2
    exit 1
  done
}

stop_all() {
  if pg_running; then as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null && echo "PostgreSQL stopped"; fi
  if mq_running; then
    local pid; pid=$(mq_pid)
    kill "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    echo "Mosquitto stopped"
  fi
}

clean_all() {
  stop_all
  rm -rf "$STATE/pg" "$STATE/mosquitto"
  rm -rf "$PRIVATE_DIR"
  rmdir "$RUN_BASE" 2>/dev/null || true  # only if no other checkout uses it
  rm -f "$STATE/env" "$PORT_FILE" "$DIRS_FILE"
  echo "Private service data removed"
}

recorded() {  # KEY: its value in .siaga/env, if any
  [ -f "$STATE/env" ] && sed -n "s/^$1=//p" "$STATE/env" | head -n 1 || true
}

is_external() {  # NAME (SIAGA_DATABASE_URL): set by the user to another service, not a value we wrote
  local value=${!1:-} marker="SIAGA_PRIVATE_${1#SIAGA_}"
  [ -n "$value" ] || return 1
  [ "$value" = "${!marker:-}" ] && return 1
  [ "$value" = "$(recorded "$marker")" ] && return 1
  # Before the application role, the private database URL was the owner's (siaga@...).
  if [ "$1" = SIAGA_DATABASE_URL ]; then
    [ "$value" = "${SIAGA_PRIVATE_MIGRATE_DATABASE_URL:-}" ] && return 1
    [ "$value" = "$(recorded SIAGA_PRIVATE_MIGRATE_DATABASE_URL)" ] && return 1
  fi
  return 0
}

write_env() {
  mkdir -p "$STATE"
  local db mq owner private_db private_owner private_mq
  # The application connects as $APP_ROLE; migrations run as siaga, the owner.
  if $EXTERNAL_DB; then db=$SIAGA_DATABASE_URL; owner=${SIAGA_MIGRATE_DATABASE_URL:-}
  else
    db="postgresql+psycopg://$APP_ROLE@127.0.0.1:$PG_PORT/siaga"; private_db=$db
    owner="postgresql+psycopg://siaga@127.0.0.1:$PG_PORT/siaga"; private_owner=$owner
  fi
  if $EXTERNAL_MQ; then mq=$SIAGA_MQTT_URL; else mq="mqtt://127.0.0.1:$MQTT_PORT"; private_mq=$mq; fi
  {
    printf 'SIAGA_DATABASE_URL=%s\nSIAGA_MQTT_URL=%s\n' "$db" "$mq"
    if [ -n "$owner" ]; then printf 'SIAGA_MIGRATE_DATABASE_URL=%s\n' "$owner"; fi
    # The private services' own URLs: these values do not count as external when exported.
    if [ -n "${private_db:-}" ]; then printf 'SIAGA_PRIVATE_DATABASE_URL=%s\n' "$private_db"; fi
    if [ -n "${private_owner:-}" ]; then printf 'SIAGA_PRIVATE_MIGRATE_DATABASE_URL=%s\n' "$private_owner"; fi
    if [ -n "${private_mq:-}" ]; then printf 'SIAGA_PRIVATE_MQTT_URL=%s\n' "$private_mq"; fi
  } > "$STATE/env.tmp"
  mv "$STATE/env.tmp" "$STATE/env"
  echo "Connection settings written to $STATE/env"
  for name in SIAGA_DATABASE_URL SIAGA_MQTT_URL; do
    local old=${OLD_VALUE[$name]:-} new; new=$(recorded "$name")
    if [ -n "$old" ] && [ "$old" != "$new" ]; then
      echo "Note: $name in your environment ($old) is out of date; it is now $new (re-read $STATE/env)"
    fi
  done
}

case "${1:-start}" in
  start)
    lock_checkout
    declare -A OLD_VALUE=()
    EXTERNAL_DB=false; EXTERNAL_MQ=false
    if is_external SIAGA_DATABASE_URL; then
      EXTERNAL_DB=true; echo "Using external database from SIAGA_DATABASE_URL"
    else
      OLD_VALUE[SIAGA_DATABASE_URL]=${SIAGA_DATABASE_URL:-}; start_pg
    fi
    if is_external SIAGA_MQTT_URL; then
      EXTERNAL_MQ=true; echo "Using external MQTT broker from SIAGA_MQTT_URL"
    else
      OLD_VALUE[SIAGA_MQTT_URL]=${SIAGA_MQTT_URL:-}; start_mqtt
    fi
    save_dirs
    write_env ;;
  stop) lock_checkout; stop_all ;;
  status)
    if pg_running; then echo "PostgreSQL: running (port $(pg_port), data $PGDATA)"; else echo "PostgreSQL: stopped"; fi
    if mq_running; then echo "Mosquitto: running (port $(mq_port), data $MQDIR)"; else echo "Mosquitto: stopped"; fi ;;
  clean) lock_checkout; clean_all ;;
  *) echo "usage: $0 start|stop|status|clean" >&2; exit 2 ;;
esac
