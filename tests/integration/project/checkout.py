"""A throwaway checkout of the project's scripts in a private (mode 700) directory.

Its services are started by the real ``scripts/services.sh`` on free ports and are removed again
by ``services.sh clean``; the environment is stripped of every ``SIAGA_*`` variable so the
checkout never sees (or stops) the services of the checkout running the tests.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import paho.mqtt.publish as mqtt_publish
import paho.mqtt.subscribe as mqtt_subscribe
import psycopg

REPO = Path(__file__).resolve().parents[3]


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without any ``SIAGA_*`` variable, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIAGA_")}
    env.update(extra)
    return env


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Checkout:
    """``<mkdtemp (0700)>/siaga`` holding a copy of ``scripts/``, like a clone in ``/root``."""

    def __init__(self) -> None:
        self.outer = Path(tempfile.mkdtemp(prefix="siaga-setup-"))
        assert self.outer.stat().st_mode & 0o777 == 0o700
        self.root = self.outer / "siaga"
        shutil.copytree(REPO / "scripts", self.root / "scripts")
        self.state = self.root / ".siaga"

    def services(
        self, *args: str, env: dict[str, str] | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(self.root / "scripts" / "services.sh"), *args],
            cwd=self.root,
            env=env if env is not None else clean_env(),
            capture_output=True,
            text=True,
            timeout=240,
        )
        if check:
            assert result.returncode == 0, result.stdout + result.stderr
        return result

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(self.root / "scripts" / "services.sh"), *args],
            cwd=self.root,
            env=clean_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def read(self, name: str) -> dict[str, str]:
        """``KEY=value`` lines of ``.siaga/<name>`` (env, ports, dirs)."""
        pairs = (line.split("=", 1) for line in (self.state / name).read_text().splitlines())
        return {k: v for k, v in pairs}

    def save_ports(self, pg_port: int, mqtt_port: int) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        (self.state / "ports").write_text(f"SAVED_PG_PORT={pg_port}\nSAVED_MQTT_PORT={mqtt_port}\n")

    @property
    def pg_port(self) -> int:
        return int(self.read("env")["SIAGA_DATABASE_URL"].rsplit(":", 1)[1].split("/")[0])

    @property
    def mqtt_port(self) -> int:
        return int(self.read("env")["SIAGA_MQTT_URL"].rsplit(":", 1)[1])

    def query(self, sql: str, *, as_owner: bool = False) -> object:
        """One value from the checkout's private database, over TCP like the application (as
        its role, which owns nothing), or as the owner role that runs the migrations (cluster
        settings such as ``data_directory`` need it)."""
        env = self.read("env")
        url = env["SIAGA_MIGRATE_DATABASE_URL" if as_owner else "SIAGA_DATABASE_URL"]
        url = url.replace("postgresql+psycopg", "postgresql")
        with psycopg.connect(url, connect_timeout=10) as conn:
            row = conn.execute(sql).fetchone()
        assert row is not None
        return row[0]

    def mqtt_round_trip(self) -> bytes:
        """Publish a retained QoS 1 message to the private broker and read it back."""
        topic, payload = f"siaga/test/setup/{uuid.uuid4().hex}", uuid.uuid4().bytes
        port = self.mqtt_port
        mqtt_publish.single(topic, payload, qos=1, retain=True, hostname="127.0.0.1", port=port)
        message = mqtt_subscribe.simple(topic, qos=1, hostname="127.0.0.1", port=port)
        assert not isinstance(message, list)
        assert message.payload == payload
        return message.payload

    def remove(self) -> None:
        """Stop and delete the services, then the folder (whatever state the test left)."""
        try:
            if (self.root / "scripts" / "services.sh").exists():
                self.services("clean", check=False)
        finally:
            shutil.rmtree(self.outer, ignore_errors=True)
