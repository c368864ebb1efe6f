#!/usr/bin/env bash
# The high-availability cluster on loopback, from Debian packages (docs/deployment-ha.md).
#   scripts/cluster.sh up|down|status|clean [broker|db]
# Calls scripts/cluster-broker.sh (three-node NATS JetStream with MQTT) and scripts/cluster-db.sh
# (PostgreSQL pair with automatic failover) with the same verb; without a part, both. After "up"
# the connection settings of the parts that run are written to .siaga/cluster.env (each part
# writes its own lines to $SIAGA_CLUSTER_DIR/<part>.env, default .siaga/cluster/).
# The single-machine services (scripts/services.sh, .siaga/env) are not touched.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE=$(realpath -m "${SIAGA_STATE_DIR:-$ROOT/.siaga}")
BASE=$(realpath -m "${SIAGA_CLUSTER_DIR:-$STATE/cluster}")
verb=${1:-status}
case ${2:-all} in
  all) parts=(broker db) ;;
  broker | db) parts=("$2") ;;
  *) echo "usage: $0 up|down|status|clean [broker|db]" >&2; exit 2 ;;
esac
case $verb in
  up | start | down | stop | status | clean) ;;
  *) echo "usage: $0 up|down|status|clean [broker|db]" >&2; exit 2 ;;
esac

for part in "${parts[@]}"; do
  script="$ROOT/scripts/cluster-$part.sh"
  if [ ! -x "$script" ]; then
    echo "cluster part '$part': $script is missing" >&2
    exit 1
  fi
  "$script" "$verb"
done

if [ "$verb" = up ] || [ "$verb" = start ]; then
  mkdir -p "$STATE"
  tmp=$(mktemp "$STATE/cluster.env.XXXXXX")
  echo "# written by scripts/cluster.sh; one section per running part" > "$tmp"
  for part in broker db; do
    [ -f "$BASE/$part.env" ] && cat "$BASE/$part.env" >> "$tmp"
  done
  mv "$tmp" "$STATE/cluster.env"
  echo "cluster settings: $STATE/cluster.env"
fi
