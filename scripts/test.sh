#!/usr/bin/env bash
# Run the test suite against the services described in .siaga/env (written by services.sh).
# Extra arguments go to pytest, e.g. scripts/test.sh tests/unit -x
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
if [ -f .siaga/env ]; then
  while IFS='=' read -r k v; do [ -n "$k" ] && [ -z "${!k:-}" ] && export "$k=$v"; done < .siaga/env
fi
export SIAGA_TEST_DB=${SIAGA_TEST_DB:-siaga_test}
exec "$ROOT/.venv/bin/python" -m pytest "$@"
