"""``siaga ingest`` wiring: stale-tracker events concern units on duty only (dispatch's set)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from api.commands.ingest import make_worker
from dispatch.assignment_service import set_unit_status
from dispatch.models import Unit
from dispatch.scoping import EVERYTHING
from tests.fixtures.tracking import mqtt_host_port
from tests.integration.tracking.helpers import wait_for
from tracking import service
from tracking.ingest import IngestConfig


def test_an_off_duty_unit_raises_no_stale_event_and_an_on_duty_one_does(
        seeded, mqtt_url, topic_prefix):
    off = seeded.scalars(select(Unit).where(Unit.call_sign == "YK-DAMKAR-01")).one()
    on = seeded.scalars(select(Unit).where(Unit.call_sign == "YK-DAMKAR-02")).one()
    set_unit_status(seeded, off.id, "out_of_service", actor="test", scope=EVERYTHING)
    seeded.flush()
    assert service.get_device(seeded, off.device_id).registered  # registered, but off duty
    # the worker reads through the test's transaction (rolled back afterwards)
    sessions = sessionmaker(bind=seeded.connection(), join_transaction_mode="create_savepoint")
    token = topic_prefix.strip("/")
    config = IngestConfig(mqtt_url=mqtt_url, client_id=f"ingest-{token}",
                          topic_prefix=topic_prefix, session_expiry_s=60, stale_after_s=600,
                          stale_check_interval_s=0.2)
    # a clock two days ahead: every on-duty tracker is silent, whatever other tests stored
    worker = make_worker(sessions, config,
                         clock=lambda: datetime.now(UTC) + timedelta(days=2))
    received: list[dict] = []
    listener = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    listener.on_message = lambda c, u, m: received.append(json.loads(m.payload))
    subscribed = threading.Event()
    listener.on_subscribe = lambda *a: subscribed.set()
    listener.connect(*mqtt_host_port(mqtt_url))
    listener.subscribe(f"{topic_prefix}siaga/v1/events/stale", qos=1)
    listener.loop_start()
    thread = threading.Thread(target=worker.run, daemon=True)
    try:
        assert subscribed.wait(10)
        thread.start()
        # one check publishes its events in device-id order, in order on one connection:
        # once yk-damkar-02's event is here, yk-damkar-01's would have been too
        wait_for(lambda: any(p["device_id"] == on.device_id for p in received), 15,
                 "stale event of the on-duty unit")
    finally:
        worker.stop()
        thread.join(10)
        listener.loop_stop()
        listener.disconnect()
    stale = {p["device_id"] for p in received if p["state"] == "stale"}
    assert on.device_id in stale
    assert off.device_id not in stale
    assert off.device_id < on.device_id
