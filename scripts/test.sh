#!/usr/bin/env bash
# Run the test suite against the services described in .siaga/env (written by services.sh).
# Extra arguments go to pytest, e.g. scripts/test.sh tests/unit -x
# A SIAGA_* value already in the environment wins over the file, unless it is one services.sh wrote
# for the private services (equal to the exported SIAGA_PRIVATE_* marker): then the file's current
# value is used, so an environment exported from an older .siaga/env is not stale.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
STATE=${SIAGA_STATE_DIR:-$ROOT/.siaga}
if [ -f "$STATE/env" ]; then
  declare -A exported_marker=()
  for name in $(compgen -v SIAGA_PRIVATE_ || true); do exported_marker[$name]=${!name}; done
  while IFS='=' read -r k v; do
    case $k in
      '' | '#'*) ;;
      SIAGA_PRIVATE_*) export "$k=$v" ;;
      *)
        marker="SIAGA_PRIVATE_${k#SIAGA_}"
        if [ -z "${!k:-}" ] || [ "${!k}" = "${exported_marker[$marker]:-}" ]; then export "$k=$v"; fi ;;
    esac
  done < "$STATE/env"
fi
export SIAGA_TEST_DB=${SIAGA_TEST_DB:-siaga_test}
exec "$ROOT/.venv/bin/python" -m pytest "$@"
