#!/usr/bin/env bash
# Three-node NATS JetStream cluster with MQTT listeners, on loopback, from the Debian nats-server.
#   scripts/cluster-broker.sh up        start the nodes that are not running (idempotent), wait
#                                       until the cluster has a JetStream leader, write broker.env
#   scripts/cluster-broker.sh down      stop the nodes (SIGTERM) and keep their data
#   scripts/cluster-broker.sh status    one line per node: pid, ports, health
#   scripts/cluster-broker.sh clean     down, then delete the data
#   scripts/cluster-broker.sh kill N    kill -9 node N (1..3): the fault tests' broker crash
# Called by scripts/cluster.sh with the same verb (docs/deployment-ha.md, docs/ha-messaging.md).
# Node i (1..3) listens on 127.0.0.1: NATS SIAGA_NATS_PORT+i-1 (14222..), MQTT
# SIAGA_NATS_MQTT_PORT+i-1 (19884..), cluster routes SIAGA_NATS_ROUTE_PORT+i-1 (16222..),
# monitoring SIAGA_NATS_HTTP_PORT+i-1 (18222..). nats-server runs as the calling user (it needs
# no privileges); its state lives in $SIAGA_CLUSTER_DIR/broker (default .siaga/cluster/broker).
# The ingest consumer is not made here: the ingest workers declare it
# (tracking/transport_jetstream.py), so a fresh cluster needs nothing else.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE=$(realpath -m "${SIAGA_STATE_DIR:-$ROOT/.siaga}")
BASE=$(realpath -m "${SIAGA_CLUSTER_DIR:-$STATE/cluster}")
DIR="$BASE/broker"
NATS_PORT=${SIAGA_NATS_PORT:-14222}
# 19884..: away from the private Mosquitto, which takes 11883 and upwards per checkout
MQTT_PORT=${SIAGA_NATS_MQTT_PORT:-19884}
ROUTE_PORT=${SIAGA_NATS_ROUTE_PORT:-16222}
HTTP_PORT=${SIAGA_NATS_HTTP_PORT:-18222}
NODES=(1 2 3)
NATS_SERVER=$(command -v nats-server || echo /usr/sbin/nats-server)

node_dir() { echo "$DIR/n$1"; }
node_pid() { local f; f="$(node_dir "$1")/nats.pid"; [ -f "$f" ] && cat "$f" || true; }
running() { local pid; pid=$(node_pid "$1"); [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }
port_of() { echo $(($1 + $2 - 1)); }  # base node

healthy() {  # node: its JetStream server is up (monitoring endpoint; js-server-only: an MQTT
  # consumer of a crashed node's former session is not "current" for minutes and does not matter)
  python3 - "$(port_of "$HTTP_PORT" "$1")" <<'PY' 2>/dev/null
import json, sys, urllib.request
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz?js-server-only=true", timeout=2) as r:
        sys.exit(0 if json.load(r).get("status") == "ok" else 1)
except Exception:
    sys.exit(1)
PY
}

meta_leader() {  # prints the JetStream meta leader's server name, if any node knows it
  local n
  for n in "${NODES[@]}"; do
    running "$n" || continue
    python3 - "$(port_of "$HTTP_PORT" "$n")" <<'PY' 2>/dev/null && return 0
import json, sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/jsz", timeout=2) as r:
    leader = (json.load(r).get("meta_cluster") or {}).get("leader")
if not leader:
    sys.exit(1)
print(leader)
PY
  done
  return 1
}

write_conf() {  # node
  local n=$1 d routes="" m
  d=$(node_dir "$n")
  for m in "${NODES[@]}"; do
    routes+="    nats-route://127.0.0.1:$(port_of "$ROUTE_PORT" "$m")"$'\n'
  done
  cat > "$d/nats.conf" <<CONF
# written by scripts/cluster-broker.sh; node $n of 3
server_name: siaga-n$n
listen: 127.0.0.1:$(port_of "$NATS_PORT" "$n")
http: 127.0.0.1:$(port_of "$HTTP_PORT" "$n")
pid_file: "$d/nats.pid"
log_file: "$d/nats.log"
max_payload: 1MB
jetstream {
  store_dir: "$d/js"
  max_memory_store: 256MB
  max_file_store: 4GB
}
cluster {
  name: siaga
  listen: 127.0.0.1:$(port_of "$ROUTE_PORT" "$n")
  routes: [
$routes  ]
}
mqtt {
  listen: 127.0.0.1:$(port_of "$MQTT_PORT" "$n")
  # QoS 1 publications are stored in the \$MQTT_msgs stream (before PUBACK) on all three nodes
  stream_replicas: 3
  # a QoS 1 message not acknowledged by an MQTT subscriber within this time is sent again
  ack_wait: "30s"
  max_ack_pending: 1024
}
CONF
}

write_env() {
  local nats="" mqtt="" n
  for n in "${NODES[@]}"; do
    nats+="${nats:+,}nats://127.0.0.1:$(port_of "$NATS_PORT" "$n")"
    mqtt+="${mqtt:+,}mqtt://127.0.0.1:$(port_of "$MQTT_PORT" "$n")"
  done
  mkdir -p "$BASE"
  cat > "$BASE/broker.env" <<ENV
SIAGA_INGEST_TRANSPORT=jetstream
SIAGA_NATS_URLS=$nats
SIAGA_CLUSTER_MQTT_URLS=$mqtt
SIAGA_CLUSTER_NATS_MONITOR=http://127.0.0.1:$HTTP_PORT
ENV
}

up() {
  mkdir -p "$DIR"
  local n started=()
  for n in "${NODES[@]}"; do
    running "$n" && continue
    mkdir -p "$(node_dir "$n")/js"
    write_conf "$n"
    rm -f "$(node_dir "$n")/nats.pid"
    # detached, holding none of our descriptors (a caller reading our output gets its EOF)
    (cd "$(node_dir "$n")" && exec setsid "$NATS_SERVER" -c nats.conf) </dev/null >/dev/null 2>&1 &
    started+=("$n")
  done
  local deadline=$((SECONDS + 60))
  for n in "${NODES[@]}"; do
    until healthy "$n"; do
      if [ $SECONDS -ge $deadline ]; then
        echo "NATS node $n is not healthy; see $(node_dir "$n")/nats.log:" >&2
        tail -n 5 "$(node_dir "$n")/nats.log" >&2 || true
        exit 1
      fi
      sleep 0.3
    done
  done
  until meta_leader >/dev/null; do
    [ $SECONDS -ge $deadline ] && { echo "NATS cluster elected no JetStream leader" >&2; exit 1; }
    sleep 0.3
  done
  # The MQTT streams ($MQTT_sess, $MQTT_msgs, ...) are made at the first MQTT connection: make it
  # now, so an ingest worker can bind its consumer before any device connects.
  for _ in $(seq 20); do
    mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -V mqttv311 -i siaga-cluster-init -q 0 \
      -t siaga/v1/cluster/init -m up 2>/dev/null && break
    sleep 0.5
  done
  write_env
  [ ${#started[@]} -gt 0 ] && echo "NATS nodes started: ${started[*]}" || true
}

down() {
  local n pid
  for n in "${NODES[@]}"; do
    pid=$(node_pid "$n")
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  for n in "${NODES[@]}"; do
    pid=$(node_pid "$n")
    [ -z "$pid" ] && continue
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$(node_dir "$n")/nats.pid"
  done
}

status() {
  local n state
  for n in "${NODES[@]}"; do
    if running "$n"; then
      healthy "$n" && state=healthy || state=starting
      echo "nats node $n: $state pid $(node_pid "$n") nats $(port_of "$NATS_PORT" "$n")" \
        "mqtt $(port_of "$MQTT_PORT" "$n") route $(port_of "$ROUTE_PORT" "$n")" \
        "monitor $(port_of "$HTTP_PORT" "$n") data $(node_dir "$n")"
    else
      echo "nats node $n: stopped"
    fi
  done
  echo "jetstream meta leader: $(meta_leader || echo none)"
}

case ${1:-status} in
  up | start) up ;;
  down | stop) down ;;
  status) status ;;
  clean) down; rm -rf "$DIR" "$BASE/broker.env" ;;
  kill)
    n=${2:?node number 1..3}
    pid=$(node_pid "$n")
    [ -n "$pid" ] || { echo "node $n is not running" >&2; exit 1; }
    if ! kill -9 "$pid" 2>/dev/null; then
      echo "node $n (pid $pid) had already stopped; the end of its log:" >&2
      tail -n 20 "$(node_dir "$n")/nats.log" >&2 || true
      exit 1
    fi
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$(node_dir "$n")/nats.pid" ;;
  *) echo "usage: $0 up|down|status|clean|kill N" >&2; exit 2 ;;
esac
