#!/usr/bin/env bash
# High-availability PostgreSQL for Siaga: a pg_auto_failover monitor and a primary + standby pair
# (Debian packages postgresql-15-auto-failover and pg-auto-failover-cli), on loopback ports.
#   scripts/cluster-db.sh up       create (first time) and start monitor, node1, node2 (idempotent)
#   scripts/cluster-db.sh down     stop the three (data kept)
#   scripts/cluster-db.sh status   the monitor's view of the pair (pg_autoctl show state)
#   scripts/cluster-db.sh clean    stop and delete the data
#   scripts/cluster-db.sh kill NODE   kill -9 a node's keeper and its PostgreSQL (fault tests)
#   scripts/cluster-db.sh start NODE  start one node again (it rejoins as standby)
#   scripts/cluster-db.sh wait        until a primary and a secondary are healthy
#   scripts/cluster-db.sh primary     name of the node the monitor holds as primary
# Called by scripts/cluster.sh with the same verb (start/stop: up/down). Connection settings go
# to .siaga/cluster/db.env ($SIAGA_CLUSTER_DIR), merged by cluster.sh into .siaga/cluster.env:
# libpq multi-host URLs with target_session_attrs=read-write, so the application and ingest always
# reach the current primary (docs/deployment-ha.md).
# Ports: SIAGA_HA_PG_PORT (default 55440) for the monitor, the next two for node1 and node2.
# Data: .siaga/cluster/db as a normal user; as root (PostgreSQL refuses to run as root) under
# $SIAGA_RUN_BASE/cluster/<hash of the checkout's .siaga path>/db (default /var/lib/siaga), owned
# by the postgres system user. pg_autoctl's configuration, state and pid files live there too.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE=$(realpath -m "${SIAGA_STATE_DIR:-$ROOT/.siaga}")
RUN_BASE=${SIAGA_RUN_BASE:-/var/lib/siaga}
MON_PORT=${SIAGA_HA_PG_PORT:-55440}
NODES=(node1 node2)
APP_ROLE=${SIAGA_APP_ROLE:-siaga_app}
ENV_FILE="$(realpath -m "${SIAGA_CLUSTER_DIR:-$STATE/cluster}")/db.env"  # merged by cluster.sh
PG_BIN=$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || dirname "$(command -v pg_ctl)")
IS_ROOT=false; [ "$(id -u)" -eq 0 ] && IS_ROOT=true
if $IS_ROOT; then
  HOME_DIR="$RUN_BASE/cluster/$(printf '%s' "$STATE" | sha256sum | cut -c1-16)/db"
else
  HOME_DIR="$STATE/cluster/db"
fi

node_port() { case $1 in monitor) echo "$MON_PORT" ;; node1) echo $((MON_PORT + 1)) ;; node2) echo $((MON_PORT + 2)) ;; *) echo "unknown node $1" >&2; exit 2 ;; esac; }
pgdata() { echo "$HOME_DIR/$1"; }
logfile() { echo "$HOME_DIR/$1.log"; }

PG_ENV=(PATH="$PG_BIN:/usr/bin:/bin" PG_CONFIG="$PG_BIN/pg_config"
        XDG_CONFIG_HOME="$HOME_DIR/xdg/config" XDG_DATA_HOME="$HOME_DIR/xdg/data"
        XDG_RUNTIME_DIR="$HOME_DIR/xdg/run" PGHOST=127.0.0.1)

as_pg() {  # run as the postgres system user (as root), with pg_autoctl's files under HOME_DIR
  if $IS_ROOT; then (cd / && runuser -u postgres -- env "${PG_ENV[@]}" "$@"); else env "${PG_ENV[@]}" "$@"; fi
}

lock() {  # one up/down/clean at a time per checkout (daemons are started with 9>&-)
  mkdir -p "$STATE"
  exec 9>"$STATE/cluster-db.lock"
  flock -w 300 9 || { echo "Another cluster-db.sh holds $STATE/cluster-db.lock" >&2; exit 1; }
}

prepare_dirs() {
  if $IS_ROOT; then
    install -d -m 711 "$RUN_BASE" "$RUN_BASE/cluster" "$(dirname "$HOME_DIR")"
    install -d -m 700 -o postgres -g postgres "$HOME_DIR" "$HOME_DIR/xdg" "$HOME_DIR/xdg/config" \
      "$HOME_DIR/xdg/data" "$HOME_DIR/xdg/run"
    printf '%s\n' "$STATE" > "$(dirname "$HOME_DIR")/checkout"
  else
    install -d -m 700 "$HOME_DIR" "$HOME_DIR/xdg" "$HOME_DIR/xdg/config" "$HOME_DIR/xdg/data" \
      "$HOME_DIR/xdg/run"
  fi
}

keeper_pid() {  # pid of the node's running `pg_autoctl run` (its pid file), if any
  local f="$HOME_DIR/xdg/run/pg_autoctl$(pgdata "$1")/pg_autoctl.pid" p
  [ -f "$f" ] || return 0
  p=$(head -n 1 "$f")
  if [ -n "$p" ] && kill -0 "$p" 2>/dev/null \
      && grep -q pg_autoctl "/proc/$p/cmdline" 2>/dev/null; then echo "$p"; fi
}

keeper_up() { [ -n "$(keeper_pid "$1")" ]; }

pg_ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$(node_port "$1")" -t 1; }

wait_for() {  # seconds description command...: until the command succeeds
  local limit=$1 what=$2 t0=$SECONDS; shift 2
  until "$@" >/dev/null 2>&1; do
    if [ $((SECONDS - t0)) -ge "$limit" ]; then echo "Timed out after ${limit}s waiting for $what" >&2; return 1; fi
    sleep 0.5
  done
}

run_node() {  # start the node's keeper (which starts and supervises its PostgreSQL)
  local node=$1
  if [ -n "$(keeper_pid "$node")" ]; then return; fi
  # setsid: a session of its own (outside the caller's job control, whose signals runuser would
  # pass on), so `kill NODE` takes the keeper and its postgres at once
  local as=(); if $IS_ROOT; then as=(runuser -u postgres --); fi
  (cd / && exec setsid "${as[@]}" env "${PG_ENV[@]}" pg_autoctl run --pgdata "$(pgdata "$node")") \
    >>"$(logfile "$node")" 2>&1 9>&- </dev/null &
  wait_for 30 "$node's keeper" keeper_up "$node"
}

monitor_uri() { as_pg pg_autoctl show uri --pgdata "$(pgdata monitor)" --formation monitor; }

node_state() {  # node: its current state as the monitor sees it
  "$PG_BIN/psql" -h 127.0.0.1 -p "$MON_PORT" -U autoctl_node -d pg_auto_failover -Atc \
    "SELECT reportedstate FROM pgautofailover.node WHERE nodename = '$1'" 2>/dev/null
}

primary() {
  "$PG_BIN/psql" -h 127.0.0.1 -p "$MON_PORT" -U autoctl_node -d pg_auto_failover -Atc \
    "SELECT nodename FROM pgautofailover.node WHERE reportedstate IN ('single', 'primary', 'wait_primary') AND goalstate = reportedstate ORDER BY nodeid LIMIT 1" 2>/dev/null
}

pair_ready() {  # since $1 (monitor clock): both nodes healthy and settled, one primary + one secondary
  [ "$("$PG_BIN/psql" -h 127.0.0.1 -p "$MON_PORT" -U autoctl_node -d pg_auto_failover -Atc \
    "SELECT string_agg(reportedstate::text, ',' ORDER BY reportedstate::text) FROM pgautofailover.node
     WHERE reportedstate = goalstate AND health = 1 AND reporttime > '$1'
       AND healthchecktime > '$1'" 2>/dev/null)" = 'primary,secondary' ]
}

wait_pair() {  # a primary and a secondary, both seen healthy after this call
  local since
  since=$("$PG_BIN/psql" -h 127.0.0.1 -p "$MON_PORT" -U autoctl_node -d pg_auto_failover -Atc "SELECT now()")
  wait_for 180 "a healthy primary and secondary" pair_ready "$since"
}

is_state() { [ "$(node_state "$1")" = "$2" ]; }

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

check_ports() {  # before creating anything: the three ports must be free (another cluster?)
  local n
  for n in monitor node1 node2; do
    if [ -z "$(keeper_pid "$n")" ] && port_busy "$(node_port "$n")"; then
      echo "Port $(node_port "$n") ($n) is taken by another process; set SIAGA_HA_PG_PORT" >&2
      exit 1
    fi
  done
}

create_monitor() {
  local d; d=$(pgdata monitor)
  [ -f "$d/PG_VERSION" ] && return
  echo "Creating the pg_auto_failover monitor on 127.0.0.1:$MON_PORT"
  as_pg pg_autoctl create monitor --pgdata "$d" --pgport "$MON_PORT" --hostname 127.0.0.1 \
    --auth trust --no-ssl >>"$(logfile monitor)" 2>&1
  as_pg pg_autoctl config set --pgdata "$d" postgresql.listen_addresses 127.0.0.1 >/dev/null
  # Loopback timings: a dead primary is noticed within seconds (defaults: 20 s unhealthy + 30 s
  # demote timeout, meant for real networks; docs/deployment-ha.md).
  as_pg tee -a "$d/postgresql.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
pgautofailover.health_check_period = 1000
pgautofailover.health_check_timeout = 1000
pgautofailover.health_check_max_retries = 1
pgautofailover.health_check_retry_delay = 500
pgautofailover.node_considered_unhealthy_timeout = 4000
pgautofailover.primary_demote_timeout = 4000
CONF
}

create_node() {
  local node=$1 d; d=$(pgdata "$1")
  [ -f "$d/PG_VERSION" ] && return
  echo "Creating PostgreSQL $node on 127.0.0.1:$(node_port "$node")"
  as_pg pg_autoctl create postgres --pgdata "$d" --pgport "$(node_port "$node")" \
    --hostname 127.0.0.1 --listen 127.0.0.1 --name "$node" --dbname siaga \
    --monitor "$(monitor_uri)" --auth trust --no-ssl >>"$(logfile "$node")" 2>&1
}

bootstrap_primary() {  # node1 alone: settings, roles, PostGIS (a standby clones all of it)
  local d port; d=$(pgdata node1); port=$(node_port node1)
  if ! grep -q '^# siaga$' "$d/pg_hba.conf"; then
    printf '# siaga\nhost all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n' \
      | as_pg tee -a "$d/pg_hba.conf" >/dev/null
  fi
  as_pg "$PG_BIN/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 >/dev/null <<SQL
SET client_min_messages = warning;
SELECT pg_reload_conf();
DO \$\$ BEGIN CREATE ROLE siaga LOGIN SUPERUSER;
EXCEPTION WHEN duplicate_object THEN NULL; END \$\$;
DO \$\$ BEGIN CREATE ROLE "$APP_ROLE" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
EXCEPTION WHEN duplicate_object THEN NULL; END \$\$;
ALTER DATABASE siaga OWNER TO siaga;
ALTER SYSTEM SET max_connections = 200;
ALTER SYSTEM SET max_locks_per_transaction = 256;
SQL
  as_pg "$PG_BIN/psql" -q -h 127.0.0.1 -p "$port" -U siaga -d siaga -c \
    "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
}

write_env() {
  mkdir -p "$(dirname "$ENV_FILE")"
  local hosts="127.0.0.1:$(node_port node1),127.0.0.1:$(node_port node2)" q="target_session_attrs=read-write"
  {
    echo "# Written by scripts/cluster-db.sh: the pg_auto_failover pair (any primary of the two)."
    echo "SIAGA_DATABASE_URL=postgresql+psycopg://$APP_ROLE@$hosts/siaga?$q"
    echo "SIAGA_MIGRATE_DATABASE_URL=postgresql+psycopg://siaga@$hosts/siaga?$q"
    echo "SIAGA_HA_PG_MONITOR_URL=$(monitor_uri)"
  } > "$ENV_FILE.tmp"
  mv "$ENV_FILE.tmp" "$ENV_FILE"
  echo "Connection settings written to $ENV_FILE"
}

up() {
  lock
  prepare_dirs
  check_ports
  create_monitor
  run_node monitor
  wait_for 60 "the monitor" pg_ready monitor
  wait_for 30 "the monitor's URI" monitor_uri
  [ -f "$(pgdata node1)/PG_VERSION" ] || create_node node1
  run_node node1
  if [ ! -f "$HOME_DIR/bootstrapped" ]; then
    wait_for 120 "node1 to be primary" is_state node1 single
    wait_for 60 "node1 to accept connections" pg_ready node1
    bootstrap_primary
    # max_connections and max_locks_per_transaction need a restart, before the standby clones
    stop_node node1
    run_node node1
    wait_for 120 "node1 to be primary again" is_state node1 single
    wait_for 60 "node1 to accept connections" pg_ready node1
    touch "$HOME_DIR/bootstrapped"
  fi
  [ -f "$(pgdata node2)/PG_VERSION" ] || create_node node2
  run_node node2
  wait_pair
  write_env
  echo "PostgreSQL pair ready: primary $(primary)"
}

stop_node() {
  local node=$1 p
  p=$(keeper_pid "$node")
  [ -n "$p" ] || return 0
  as_pg pg_autoctl stop --pgdata "$(pgdata "$node")" >/dev/null 2>&1 || kill -TERM "$p" 2>/dev/null || true
  local t0=$SECONDS
  while kill -0 "$p" 2>/dev/null; do
    if [ $((SECONDS - t0)) -ge 60 ]; then kill -KILL -- "-$p" 2>/dev/null || true; break; fi
    sleep 0.3
  done
}

down() {
  lock
  stop_node node2; stop_node node1; stop_node monitor
  echo "PostgreSQL pair and monitor stopped (data in $HOME_DIR)"
}

kill_node() {  # keeper and PostgreSQL die at once, as with a lost host
  local p pm; p=$(keeper_pid "$1")
  [ -n "$p" ] || { echo "$1 is not running" >&2; exit 1; }
  pm=$(head -n 1 "$(pgdata "$1")/postmaster.pid" 2>/dev/null || true)
  kill -KILL -- "-$(ps -o pgid= -p "$p" | tr -d ' ')"
  # a postmaster the keeper started through pg_ctl (after a rejoin) has a session of its own
  if [ -n "$pm" ] && kill -0 "$pm" 2>/dev/null; then
    kill -KILL -- "-$(ps -o pgid= -p "$pm" | tr -d ' ')" 2>/dev/null || kill -KILL "$pm" 2>/dev/null || true
  fi
}

status() {
  if [ -z "$(keeper_pid monitor)" ]; then echo "monitor: stopped ($HOME_DIR)"; exit 3; fi
  as_pg pg_autoctl show state --pgdata "$(pgdata monitor)"
}

case ${1:-} in
  up) up ;;
  down) down ;;
  start) if [ -n "${2:-}" ]; then run_node "$2"; else up; fi ;;
  stop) if [ -n "${2:-}" ]; then lock; stop_node "$2"; else down; fi ;;
  status) status ;;
  clean) down; rm -rf "$HOME_DIR" "$ENV_FILE"
    if $IS_ROOT; then rm -rf "$(dirname "$HOME_DIR")"; fi
    echo "Deleted $HOME_DIR" ;;
  kill) kill_node "${2:?node}" ;;
  wait) wait_pair; echo "primary: $(primary)" ;;
  primary) primary ;;
  *) echo "usage: $0 up|down|status|clean|kill NODE|start NODE|wait|primary" >&2; exit 2 ;;
esac
