"""The ingest worker's parameters, hook types and the position event it publishes (no MQTT or
database here; ``ingest.py`` runs the worker)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from geo.timestamp import iso_utc
from tracking.exceptions import IngestConfigError
from tracking.fix import Fix
from tracking.plausibility import PlausibilityLimits

#: ``hook(session, fixes) -> [(topic, payload_dict), ...]`` run after each committed batch.
IngestHook = Callable[[Session, Sequence[Fix]], list[tuple[str, dict]]]
#: ``on_duty(session) -> device ids`` that must report (stale tracker detection).
OnDuty = Callable[[Session], set[str]]


@dataclass(frozen=True)
class IngestConfig:
    """Explicit parameters of one worker (built from settings by ``siaga ingest``)."""

    mqtt_url: str
    client_id: str = "siaga-ingest"
    topic_prefix: str = ""
    #: MQTT 5 shared subscription group (``$share/<group>/...``) so several workers split the
    #: load; ``None`` = a plain subscription. Mosquitto 2.0 does not restore shared subscriptions
    #: from its persistence file after a broker restart, so messages published before the workers
    #: re-subscribe are lost: keep one worker with a plain subscription where broker restarts
    #: must lose nothing (tests/integration/tracking/test_zero_loss.py).
    shared_group: str | None = None
    #: a batch is handed to the writer as soon as the writer is idle; while it is busy the next
    #: batch grows up to these sizes, or is queued behind it once ``batch_max_delay_s`` old
    batch_max_fixes: int = 20000
    batch_max_messages: int = 5000
    batch_max_delay_s: float = 0.1
    #: MQTT 5 Receive Maximum: unacked QoS 1 messages the broker may have in flight to us. Acks
    #: wait for the commit, so this covers two batches of messages (one committing, the next
    #: filling); it also bounds the messages held in memory
    receive_maximum: int = 10000
    session_expiry_s: int = 7 * 86400
    keepalive_s: int = 30
    stale_after_s: float = 600.0
    stale_check_interval_s: float = 30.0
    stats_interval_s: float = 60.0
    retry_delay_s: float = 1.0
    limits: PlausibilityLimits = field(default_factory=PlausibilityLimits)

    def __post_init__(self) -> None:
        if self.batch_max_fixes < 1 or self.batch_max_messages < 1:
            raise IngestConfigError("batch sizes must be >= 1")
        if not 1 <= self.receive_maximum <= 65535:
            raise IngestConfigError("receive_maximum must be 1..65535")

    def subscriptions(self) -> list[str]:
        topics = [f"{self.topic_prefix}siaga/v1/pos/+", f"{self.topic_prefix}siaga/v1/status/+",
                  f"{self.topic_prefix}owntracks/+/+"]
        if self.shared_group:
            return [f"$share/{self.shared_group}/{t}" for t in topics]
        return topics

    def event_topic(self, kind: str) -> str:
        return f"{self.topic_prefix}siaga/v1/events/{kind}"


def position_event(latest: dict[str, Fix]) -> dict:
    """Payload of ``siaga/v1/events/position``: the newest fix of each device in a batch."""
    return {"kind": "position", "fixes": [
        {"device_id": f.device_id, "fix_time": iso_utc(f.fix_time), "lon": f.lon, "lat": f.lat,
         "speed_mps": f.speed_mps, "heading_deg": f.heading_deg, "seq": f.seq,
         "accuracy_m": f.accuracy_m, "battery_pct": f.battery_pct, "source": f.source,
         "received_at": iso_utc(f.received_at)}
        for f in sorted(latest.values(), key=lambda f: f.device_id)]}
