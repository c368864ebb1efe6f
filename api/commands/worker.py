"""``siaga worker``: the scheduler process (escalation and standby check), one leader at a time.

Run as many as you like (``docker-compose.yml`` runs one, ``siaga demo`` one): a PostgreSQL
advisory lock lets exactly one of them run each pass (``api/worker.py``).
"""

from __future__ import annotations

import json
import signal
import threading
import uuid
from typing import Any
from urllib.parse import urlparse

import typer

from api.commands._common import fail, settings


class EventPublisher:
    """Publishes committed domain events ``[(topic, payload)]`` on the broker (QoS 1)."""

    def __init__(self, mqtt_url: str) -> None:
        import paho.mqtt.client as mqtt

        u = urlparse(mqtt_url)
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                  client_id=f"siaga-worker-{uuid.uuid4().hex[:8]}")
        if u.username:
            self.client.username_pw_set(u.username, u.password)
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)
        self.client.connect_async(u.hostname or "127.0.0.1", u.port or 1883)
        self.client.loop_start()

    def __call__(self, messages: list[tuple[str, dict[str, Any]]]) -> None:
        for topic, payload in messages:
            self.client.publish(topic, json.dumps(payload, default=str), qos=1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def escalation_job(sessions: Any, *, config: Any, road_networks: Any) -> Any:
    """A job running one escalation/standby pass in its own transaction; it returns the
    messages to publish (the pass is committed before they are returned)."""
    from api.db import unit_of_work
    from dispatch.escalation_service import check_escalations
    from dispatch.scoping import EVERYTHING

    def run() -> list[tuple[str, dict[str, Any]]]:
        with unit_of_work(sessions) as session:
            result = check_escalations(session, config=config, road_networks=road_networks,
                                       profiles=road_networks.profiles,
                                       scope=EVERYTHING)  # the scheduler: every regency
        return [e.as_message() for e in result.events]  # committed above

    return run


#: Seconds between passes creating the coming days' position partitions (migration 0019).
PARTITION_INTERVAL_S = 3600.0
#: Days ahead of today whose position partitions the scheduler keeps ready.
PARTITION_DAYS_AHEAD = 2


def partition_job(sessions: Any) -> Any:
    """The scheduler's partition pass: today's and the next days' partitions, before their
    first fix, so that no ingest worker runs the DDL at midnight."""
    from api.db import unit_of_work
    from tracking import service

    def run() -> list[tuple[str, dict[str, Any]]]:
        with unit_of_work(sessions) as session:
            service.premake_partitions(session, days_ahead=PARTITION_DAYS_AHEAD)
        return []

    return run


def register(root: typer.Typer) -> None:
    @root.command("worker")
    def worker(
        escalation_interval: float = typer.Option(
            30.0, min=1.0, help="Seconds between escalation/standby passes."),
        name: str = typer.Option("", help="Name of this worker in the logs."),
    ) -> None:
        """Run the scheduler (escalations, standby-line notifications); only the leader of all
        workers runs each pass."""
        import logging

        from api.db import make_engine, make_sessionmaker
        from api.notify import NotifyConfig, notify_job
        from api.worker import LeaderLock, Worker
        from dispatch.config import load_config
        from geo.routing.profiles import load_profiles
        from geo.routing.store import RoadNetworks

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        cfg = settings()
        engine = make_engine(cfg.database_url, pool_size=2, max_overflow=1)
        try:
            job = escalation_job(make_sessionmaker(engine),
                                 config=load_config(cfg.agencies_path),
                                 road_networks=RoadNetworks(cfg.roads_dir,
                                                            load_profiles(cfg.profiles_path)))
        except Exception as exc:  # noqa: BLE001 - configuration problems in one line
            fail(f"worker setup failed: {exc}")
        publisher = EventPublisher(cfg.mqtt_url)
        stop = threading.Event()
        for s in (signal.SIGINT, signal.SIGTERM):
            signal.signal(s, lambda *_: stop.set())
        label = name or f"worker-{uuid.uuid4().hex[:6]}"
        typer.echo(f"[worker] {label}: escalation every {escalation_interval:g} s "
                   "(leader by advisory lock)")
        notify = notify_job(make_sessionmaker(engine), NotifyConfig.from_settings(cfg))
        partitions = partition_job(make_sessionmaker(engine))
        try:
            Worker(LeaderLock(engine), {"escalation": (escalation_interval, job),
                                        "notify": (cfg.notify_interval_s, notify),
                                        "partitions": (PARTITION_INTERVAL_S, partitions)},
                   publish=publisher, name=label).run(stop)
        finally:
            publisher.close()
            engine.dispose()
        typer.echo(f"[worker] {label} stopped")
