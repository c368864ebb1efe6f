"""A whole console stack for browser tests of a shift: the app under a real uvicorn, an ingest
worker (with the arrival-verification hook) on the real broker, and the live fan-out, all on a
topic prefix of their own so other runs on the same broker neither reach nor see them."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tests.integration.api.live_server import serve


@dataclass(frozen=True)
class Stack:
    base: str
    prefix: str
    mqtt_url: str
    app: Any

    def publish_fix(self, device_id: str, lon: float, lat: float, *, seq: int,
                    at: datetime | None = None, speed_mps: float = 8.0) -> None:
        """One fix over MQTT (QoS 1) on the stack's position topic, as a tracker bridge sends."""
        from tests.integration.tracking.helpers import mosquitto_pub

        at = at or datetime.now(UTC)
        fix = {"v": 1, "device_id": device_id, "seq": seq,
               "fix_time": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z",
               "lat": lat, "lon": lon, "speed_mps": speed_mps}
        mosquitto_pub(self.mqtt_url, f"{self.prefix}siaga/v1/pos/{device_id}",
                      json.dumps([fix]).encode())


@contextmanager
def shift_stack(*, settings: Any, database_url: str, engine: Any, mqtt_url: str,
                roads_dir: Any, **overrides: Any) -> Iterator[Stack]:
    """Serve the app and run the ingest worker until the block ends."""
    from api.app import create_app
    from api.db import make_sessionmaker
    from api.ingest_hooks import arrival_verification_hook
    from api.services import LiveOptions
    from dispatch.config import load_config
    from tracking.ingest import IngestConfig, IngestWorker

    token = uuid.uuid4().hex[:8]
    prefix = f"test/{token}/"
    cfg = settings.model_copy(update={"database_url": database_url, "mqtt_url": mqtt_url,
                                      "roads_dir": roads_dir, **overrides})
    app = create_app(cfg, live=LiveOptions(topic=f"{prefix}siaga/v1/events/#", window_s=0.1))
    worker = IngestWorker(make_sessionmaker(engine),
                          IngestConfig(mqtt_url=mqtt_url, client_id=f"shift-ingest-{token}",
                                       topic_prefix=prefix, batch_max_delay_s=0.05,
                                       session_expiry_s=60),
                          hooks=[arrival_verification_hook(load_config())])
    runner = threading.Thread(target=worker.run, daemon=True)
    runner.start()
    try:
        time.sleep(1.0)  # the worker subscribes
        with serve(app) as base:
            yield Stack(base, prefix, mqtt_url, app)
    finally:
        worker.stop()
        runner.join(timeout=10)
