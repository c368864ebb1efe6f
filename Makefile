# Siaga: two commands do everything on a fresh Debian machine.
#   make demo   services + migrations + pilot data + simulated fleet, API and live map
#   make test   services + the whole test suite against real PostGIS and Mosquitto
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: demo test services stop status clean migrate venv lint bench demo-ha

$(VENV)/.installed: pyproject.toml
	@scripts/system-deps.sh python
	@test -x $(PIP) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[server,bridge,test]'
	@touch $@

venv: $(VENV)/.installed

services: venv
	@scripts/system-deps.sh services
	@scripts/services.sh start

# The demo on the high-availability cluster, started on loopback from Debian packages
# (docs/deployment-ha.md): three NATS JetStream nodes with MQTT and the PostgreSQL pair with
# automatic failover (settings in .siaga/cluster.env); the simulated vehicles publish MQTT 3.1.1
# QoS 1 to a broker node, the ingest worker consumes the replicated stream.
demo-ha: venv
	@scripts/system-deps.sh test
	@scripts/cluster.sh up
	@scripts/cluster.sh status
	@set -a; . "$${SIAGA_STATE_DIR:-.siaga}/cluster.env"; set +a; \
	  export SIAGA_MQTT_URL=$${SIAGA_CLUSTER_MQTT_URLS%%,*} SIAGA_BRIDGE_MQTT_PROTOCOL=3.1.1; \
	  $(VENV)/bin/siaga demo

stop:
	@scripts/services.sh stop

status:
	@scripts/services.sh status

# Stop the private services and delete their data (database cluster, broker persistence).
clean:
	@scripts/services.sh clean

migrate: services
	@set -a; . .siaga/env; set +a; $(VENV)/bin/siaga db upgrade

test: venv
	@scripts/system-deps.sh test
	@scripts/services.sh start
	@scripts/test.sh

demo: migrate
	@set -a; . .siaga/env; set +a; $(VENV)/bin/siaga demo

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench: migrate
	@set -a; . .siaga/env; set +a; for b in benchmarks/*.py; do $(PY) $$b || exit 1; done
