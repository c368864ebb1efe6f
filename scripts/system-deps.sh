#!/usr/bin/env bash
# Install the Debian packages Siaga needs, if any are missing.
#   scripts/system-deps.sh python     python3 with venv, make (enough to build .venv)
#   scripts/system-deps.sh services   the above + PostgreSQL 15 + PostGIS 3 (+ pgRouting for
#                                     benchmarks), Mosquitto
#   scripts/system-deps.sh test       the above + docker-compose (config validation) + Chromium (browser tests)
#                                     + pg_auto_failover (high-availability database tests)
#                                     + nats-server (high-availability broker tests)
#                                     + poppler-utils (report PDF tests)
# Runs apt-get only when something is missing; as non-root it prints the command to run instead.
set -euo pipefail
want=${1:-services}

pkgs=()
command -v python3 >/dev/null 2>&1 || pkgs+=(python3)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || pkgs+=(python3-venv)
command -v make >/dev/null 2>&1 || pkgs+=(make)
if [ "$want" != python ]; then
  [ -x /usr/lib/postgresql/15/bin/initdb ] || pkgs+=(postgresql-15)
  [ -f /usr/share/postgresql/15/extension/postgis.control ] || pkgs+=(postgresql-15-postgis-3)
  [ -f /usr/share/postgresql/15/extension/pgrouting.control ] || pkgs+=(postgresql-15-pgrouting)
  command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || pkgs+=(mosquitto)
  command -v mosquitto_pub >/dev/null 2>&1 || pkgs+=(mosquitto-clients)
fi
if [ "$want" = test ]; then
  command -v docker-compose >/dev/null 2>&1 || pkgs+=(docker-compose)
  command -v chromium >/dev/null 2>&1 || pkgs+=(chromium)
  # pdftotext, pdfimages, pdftoppm: the report tests read the PDFs back
  command -v pdftotext >/dev/null 2>&1 || pkgs+=(poppler-utils)
  # high-availability broker tests (scripts/cluster-broker.sh): three-node NATS JetStream + MQTT
  command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || pkgs+=(nats-server)
  # high-availability database tests (scripts/cluster-db.sh): pg_auto_failover monitor + pair
  [ -f /usr/share/postgresql/15/extension/pgautofailover.control ] || pkgs+=(postgresql-15-auto-failover)
  command -v pg_autoctl >/dev/null 2>&1 || [ -x /usr/lib/postgresql/15/bin/pg_autoctl ] || pkgs+=(pg-auto-failover-cli)
fi

[ ${#pkgs[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "Siaga needs these Debian packages: ${pkgs[*]}" >&2
  echo "Install them as root:  apt-get update && apt-get install -y ${pkgs[*]}" >&2
  exit 1
fi
echo "Installing system packages: ${pkgs[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Do not let the Debian packages start their own system-wide services: Siaga runs private ones.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
echo "System packages installed."
