"""scripts/services.sh for real: a private PostgreSQL/PostGIS and Mosquitto per checkout.

Run as root (a fresh Debian server or container) the checkout may sit in a folder the ``postgres``
and ``mosquitto`` users cannot enter (``/root/siaga``, a ``mktemp -d`` folder); values exported
from ``.siaga/env`` are the private services' own, not external ones; two checkouts starting at
once, or a port taken between the check and the bind, end on distinct ports.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import service_missing
from tests.integration.project.checkout import Checkout, clean_env, free_port, port_open

pytestmark = pytest.mark.slow
AS_ROOT = os.geteuid() == 0
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _require_tools() -> None:
    for tool in ("mosquitto", "flock", "runuser"):
        if shutil.which(tool) is None:
            service_missing(f"{tool} is not installed (scripts/system-deps.sh services)")
    if not (PG_BIN / "initdb").exists():
        service_missing("PostgreSQL 15 is not installed (scripts/system-deps.sh services)")


@pytest.fixture
def checkout() -> Iterator[Checkout]:
    _require_tools()
    c = Checkout()
    yield c
    c.remove()


@pytest.fixture
def another_checkout(checkout: Checkout) -> Iterator[Checkout]:
    c = Checkout()
    yield c
    c.remove()


def _status(c: Checkout) -> str:
    return c.services("status").stdout


def test_services_start_in_a_folder_only_root_can_enter(checkout: Checkout) -> None:
    start = checkout.services("start")
    assert "Using external" not in start.stdout
    # the user's folder is left as it was: nothing is opened up to other users
    assert checkout.outer.stat().st_mode & 0o777 == 0o700

    assert str(checkout.query("select postgis_version()")).startswith("3.")
    assert checkout.query("select current_database()") == "siaga"
    checkout.mqtt_round_trip()
    status = _status(checkout)
    assert f"PostgreSQL: running (port {checkout.pg_port}" in status
    assert f"Mosquitto: running (port {checkout.mqtt_port}" in status

    dirs = checkout.read("dirs")
    if AS_ROOT:
        for key, user in (("PG_HOME", "postgres"), ("MOSQUITTO_HOME", "mosquitto")):
            home = Path(dirs[key])
            assert home.is_relative_to("/var/lib/siaga"), dirs
            assert home.owner() == user
            assert (home.parent / "checkout").read_text().strip() == str(checkout.state)

    # a second start reuses the running services
    again = checkout.services("start")
    assert "already running" in again.stdout
    pg_port, mqtt_port = checkout.pg_port, checkout.mqtt_port

    stopped = checkout.services("stop")
    assert "PostgreSQL stopped" in stopped.stdout and "Mosquitto stopped" in stopped.stdout
    assert _status(checkout) == "PostgreSQL: stopped\nMosquitto: stopped\n"
    assert not port_open(pg_port) and not port_open(mqtt_port)

    # started again: the same cluster, its data kept
    checkout.services("start")
    assert checkout.query("select count(*) from pg_extension where extname = 'postgis'") == 1
    checkout.services("clean")
    assert not port_open(pg_port)
    for key in ("PG_HOME", "MOSQUITTO_HOME"):
        assert not Path(dirs[key]).exists()
    assert not (checkout.state / "env").exists()


def test_values_exported_from_siaga_env_are_not_external_services(checkout: Checkout) -> None:
    checkout.services("start")
    written = checkout.read("env")
    checkout.services("stop")

    # `set -a; . .siaga/env` in the user's shell, then `make services`
    exported = checkout.services("start", env=clean_env(**written))
    assert "Using external" not in exported.stdout, exported.stdout
    assert "PostgreSQL started" in exported.stdout and "Mosquitto started" in exported.stdout
    checkout.query("select 1")
    checkout.mqtt_round_trip()
    assert written["SIAGA_PRIVATE_DATABASE_URL"] == written["SIAGA_DATABASE_URL"]

    # Only the database URL exported (no marker): still recognised from what .siaga/env records.
    checkout.services("stop")
    partly = checkout.services(
        "start", env=clean_env(SIAGA_DATABASE_URL=written["SIAGA_DATABASE_URL"])
    )
    assert "Using external" not in partly.stdout
    assert "PostgreSQL started" in partly.stdout
    checkout.services("stop")

    # A broker the user points at really is external: the private one stays stopped.
    elsewhere = f"mqtt://127.0.0.1:{free_port()}"
    external = checkout.services("start", env=clean_env(**{**written, "SIAGA_MQTT_URL": elsewhere}))
    assert "Using external MQTT broker from SIAGA_MQTT_URL" in external.stdout
    assert "PostgreSQL started" in external.stdout
    assert "Mosquitto: stopped" in _status(checkout)
    env = checkout.read("env")
    assert env["SIAGA_MQTT_URL"] == elsewhere
    assert "SIAGA_PRIVATE_MQTT_URL" not in env
    assert env["SIAGA_PRIVATE_DATABASE_URL"] == env["SIAGA_DATABASE_URL"]


def test_a_port_taken_between_check_and_bind_moves_to_the_next(checkout: Checkout) -> None:
    """A socket bound but not listening looks free to the check and makes the bind fail,
    exactly what a concurrently starting server does."""
    with socket.socket() as pg_holder, socket.socket() as mq_holder:
        pg_holder.bind(("127.0.0.1", 0))
        mq_holder.bind(("127.0.0.1", 0))
        taken_pg, taken_mq = pg_holder.getsockname()[1], mq_holder.getsockname()[1]
        checkout.save_ports(taken_pg, taken_mq)
        out = checkout.services("start").stdout
        assert f"port {taken_pg} was taken meanwhile" in out
        assert f"port {taken_mq} was taken meanwhile" in out
        assert checkout.pg_port > taken_pg and checkout.mqtt_port > taken_mq
        assert checkout.read("ports") == {
            "SAVED_PG_PORT": str(checkout.pg_port),
            "SAVED_MQTT_PORT": str(checkout.mqtt_port),
        }
        checkout.query("select 1")
        checkout.mqtt_round_trip()


def test_a_pinned_port_that_is_taken_fails_clearly(checkout: Checkout) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        taken = holder.getsockname()[1]
        result = checkout.services("start", env=clean_env(SIAGA_PG_PORT=str(taken)), check=False)
    assert result.returncode != 0
    assert f"PostgreSQL did not start on port {taken}" in result.stderr


def test_two_checkouts_starting_at_once_get_their_own_services(
    checkout: Checkout, another_checkout: Checkout
) -> None:
    pg_port, mqtt_port = free_port(), free_port()
    for c in (checkout, another_checkout):
        c.save_ports(pg_port, mqtt_port)  # both aim at the same ports
    # two starts in one checkout (serialised by its lock) and one in the other, all at once
    procs = [checkout.popen("start"), another_checkout.popen("start"), checkout.popen("start")]
    outputs = [p.communicate(timeout=240)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    assert sum("already running" in out for out in (outputs[0], outputs[2])) >= 1, outputs

    assert checkout.pg_port != another_checkout.pg_port
    assert checkout.mqtt_port != another_checkout.mqtt_port
    one = checkout.query("show data_directory", as_owner=True)
    other = another_checkout.query("show data_directory", as_owner=True)
    assert one != other
    checkout.mqtt_round_trip()
    another_checkout.mqtt_round_trip()

    # stopping one leaves the other running
    checkout.services("stop")
    assert "PostgreSQL: running" in _status(another_checkout)
    another_checkout.query("select 1")


@pytest.mark.skipif(not AS_ROOT, reason="the layout of earlier versions matters only as root")
def test_a_cluster_made_inside_siaga_by_an_earlier_version_is_kept() -> None:
    """Checkouts in folders postgres can enter made their cluster in .siaga/pg: keep using it."""
    _require_tools()
    c = Checkout()
    try:
        c.outer.chmod(0o755)
        legacy = c.state / "pg"
        legacy.mkdir(parents=True)
        shutil.chown(legacy, "postgres", "postgres")
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(PG_BIN / "initdb"),
                "-D",
                str(legacy / "data"),
                "-U",
                "siaga",
                "--auth=trust",
            ],
            cwd="/",
            check=True,
            capture_output=True,
            timeout=120,
        )
        with (legacy / "data" / "postgresql.conf").open("a") as conf:  # as that version did
            conf.write(
                f"listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{legacy / 'run'}'\n"
                "include_if_exists = 'siaga_port.conf'\n"
            )
        c.services("start")
        assert c.read("dirs")["PG_HOME"] == str(legacy)
        assert Path(str(c.query("show data_directory", as_owner=True))) == legacy / "data"
        assert f"data {legacy / 'data'}" in _status(c)
    finally:
        c.remove()
