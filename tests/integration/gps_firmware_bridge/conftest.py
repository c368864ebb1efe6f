"""A private Mosquitto per test (own port, config and persistence dir) that tests may stop/start.

Never touches the shared broker of scripts/services.sh.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.conftest import service_missing


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateBroker:
    """A mosquitto process with its own config; ``stop()``/``start()`` keep its persistence."""

    def __init__(self, workdir: Path, extra_conf: str = "") -> None:
        self.as_root = os.geteuid() == 0
        if self.as_root:
            # mosquitto drops root privileges to the "mosquitto" user, which cannot enter
            # pytest's 0700 tmp dirs: use a world-traversable dir it owns instead.
            workdir = Path(tempfile.mkdtemp(prefix="siaga-bridge-mq-"))
            workdir.chmod(0o755)
        self.dir = workdir
        self.port = free_port()
        (workdir / "data").mkdir(parents=True, exist_ok=True)
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            f"persistence true\npersistence_location {workdir / 'data'}/\n"
            "autosave_interval 1\nmax_queued_messages 0\n"
            + (extra_conf or "allow_anonymous true\n")
            + ("user mosquitto\n" if self.as_root else "")
        )
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        if self.as_root:
            shutil.chown(self.dir, "mosquitto")
            for path in self.dir.rglob("*"):
                shutil.chown(path, "mosquitto")
        log = open(self.dir / "mosquitto.log", "ab")  # noqa: SIM115 - owned by the process
        self.proc = subprocess.Popen(["mosquitto", "-c", str(self.conf)], stdout=log, stderr=log)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError((self.dir / "mosquitto.log").read_text())

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def broker_factory(tmp_path) -> Iterator:
    if shutil.which("mosquitto") is None:
        service_missing("mosquitto binary not installed")
    made: list[PrivateBroker] = []

    def make(extra_conf: str = "", name: str = "broker") -> PrivateBroker:
        b = PrivateBroker(tmp_path / name, extra_conf)
        made.append(b)
        return b

    yield make
    for b in made:
        b.stop()
        if b.as_root:
            shutil.rmtree(b.dir, ignore_errors=True)


class PositionSubscriber:
    """Subscribed to every position topic of a broker; ``received`` fills as the fixes arrive."""

    def __init__(self, broker, client_id: str) -> None:  # noqa: ANN001
        self.received: list[dict] = []
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                   protocol=mqtt.MQTTv5)
        subscribed = threading.Event()
        self._client.on_subscribe = lambda *a: subscribed.set()
        self._client.on_message = self._on_message
        self._client.connect("127.0.0.1", broker.port)
        self._client.loop_start()
        self._client.subscribe("siaga/v1/pos/#", qos=1)
        assert subscribed.wait(5)

    def _on_message(self, client, userdata, message) -> None:  # noqa: ANN001
        payload = json.loads(message.payload)
        self.received.extend(payload if isinstance(payload, list) else [payload])  # batch or one

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
