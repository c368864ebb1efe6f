"""GPS arrival verification on stored tracks (real PostGIS, fixes stored by tracking.service):
drive-by, real arrival, late batch moving the arrival earlier (audited), evidence + digest,
manual arrivals left alone, and the ingest hook."""

import math
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text

from api.ingest_hooks import ingest_hooks
from dispatch import assignment_service as asg
from dispatch import audit
from dispatch import incident_service as svc
from dispatch.models import AuditChain, AuditLog, Unit
from dispatch.scoping import EVERYTHING
from dispatch.timestamp import iso_utc
from dispatch.verification import assignment_evidence, verify_arrivals
from geo.types import LonLat
from tests.fixtures.dispatch import make_fix, store_fixes

T0 = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
SCENE = LonLat(110.36742, -7.79314)
DEVICE = "yk-damkar-01"


def at_m(east_m: float, north_m: float = 0.0) -> LonLat:
    return LonLat(SCENE.lon + east_m / (111_320 * math.cos(math.radians(SCENE.lat))),
                  SCENE.lat + north_m / 110_574)


def fixes(start: datetime, points, step_s=10, speed_mps=0.5, seq0=0):
    return [make_fix(DEVICE, start + timedelta(seconds=n * step_s), p.lon, p.lat,
                     speed_mps=speed_mps, seq=seq0 + n) for n, p in enumerate(points)]


def dispatched_fire(session, config):
    i = svc.create_incident(session, config=config, geocoder=None, kode_kab="34.71",
                            category="fire", location=SCENE, actor="op", now=T0,
                            scope=EVERYTHING).value
    svc.triage_incident(session, i.id, config=config, actor="op", now=T0, scope=EVERYTHING)
    u = session.scalars(select(Unit).where(Unit.device_id == DEVICE)).one()
    a = asg.assign_unit(session, i.id, u.id, config=config, actor="op", now=T0,
                        scope=EVERYTHING).value
    return i, u, a


def test_drive_by_then_arrival_then_late_fixes_move_it_earlier(seeded, dispatch_config):
    i, u, a = dispatched_fire(seeded, dispatch_config)
    # 1) driving past at 12 m/s through the 150 m fence: no arrival
    drive_by = fixes(T0 + timedelta(minutes=3), [at_m(x) for x in range(-400, 401, 120)],
                     step_s=10, speed_mps=12.0)
    store_fixes(seeded, drive_by)
    assert verify_arrivals(seeded, drive_by, config=dispatch_config,
                           now=T0 + timedelta(minutes=4)) == []
    assert a.arrived_at is None and u.status == "dispatched"
    # 2) real arrival: slow fixes inside the fence from T0+8 min
    dwell = fixes(T0 + timedelta(minutes=8), [at_m(40, 10), at_m(35, 5), at_m(30, 0),
                                              at_m(32, 2)], seq0=100)
    store_fixes(seeded, dwell)
    events = verify_arrivals(seeded, dwell, config=dispatch_config,
                             now=T0 + timedelta(minutes=9))
    arrival = [e for e in events if e.kind == "arrival"]
    assert len(arrival) == 1 and arrival[0].topic == "siaga/v1/events/arrival"
    assert arrival[0].payload["action"] == "arrived"
    assert arrival[0].payload["sla"]["status"] == "met"
    assert (a.arrived_at, a.arrival_source, a.arrived_by) == (
        T0 + timedelta(minutes=8), "gps", "system:gps")
    assert (u.status, i.status) == ("on_scene", "on_scene")
    first_digest = a.evidence_digest
    assert first_digest and a.evidence["properties"]["arrival"]["fixes_in_dwell"] >= 3
    # 3) a store-and-forward backlog arrives late: the unit was already there at T0+6 min
    late = fixes(T0 + timedelta(minutes=6), [at_m(50), at_m(45), at_m(40), at_m(42)], seq0=50)
    store_fixes(seeded, late)
    events = verify_arrivals(seeded, late, config=dispatch_config,
                             now=T0 + timedelta(minutes=30))
    [ev] = events
    assert ev.payload["action"] == "arrival_revised"
    assert ev.payload["previous_arrived_at"] == iso_utc(T0 + timedelta(minutes=8))
    assert a.arrived_at == T0 + timedelta(minutes=6) and a.evidence_digest != first_digest
    revised = seeded.scalars(select(AuditLog).where(
        AuditLog.entity == "assignment", AuditLog.entity_id == a.id,
        AuditLog.action == "arrival_revised")).one()
    assert revised.before["arrived_at"] == iso_utc(T0 + timedelta(minutes=8))
    assert revised.after["arrived_at"] == iso_utc(T0 + timedelta(minutes=6))
    # 4) re-running with the same or later data never moves it later
    assert verify_arrivals(seeded, dwell, config=dispatch_config,
                           now=T0 + timedelta(minutes=31)) == []
    assert a.arrived_at == T0 + timedelta(minutes=6)
    # evidence: stored GeoJSON, digest re-checked; a tampered copy is detected
    ev = assignment_evidence(seeded, a.id, scope=EVERYTHING)
    assert ev["digest_valid"] is True and ev["evidence"]["type"] == "FeatureCollection"
    seeded.execute(text("UPDATE assignment SET evidence = jsonb_set(evidence, "
                        "'{properties,arrival,arrived_at}', '\"2026-07-01T09:59:00+00:00\"') "
                        "WHERE id = :id"), {"id": a.id})
    seeded.expire_all()
    assert assignment_evidence(seeded, a.id, scope=EVERYTHING)["digest_valid"] is False


def test_drift_at_the_fence_edge_is_not_an_arrival(seeded, dispatch_config):
    i, u, a = dispatched_fire(seeded, dispatch_config)
    # parked 160-220 m away (outside the 150 m fence, inside the 225 m exit fence): drifting
    drift = fixes(T0 + timedelta(minutes=5),
                  [at_m(160 + 20 * (n % 3)) for n in range(12)], step_s=15)
    store_fixes(seeded, drift)
    assert verify_arrivals(seeded, drift, config=dispatch_config,
                           now=T0 + timedelta(minutes=9)) == []
    assert a.arrived_at is None


def test_manual_arrival_is_not_overwritten_by_gps(seeded, dispatch_config):
    i, u, a = dispatched_fire(seeded, dispatch_config)
    asg.arrive(seeded, a.id, actor="radio", now=T0 + timedelta(minutes=10), scope=EVERYTHING)
    dwell = fixes(T0 + timedelta(minutes=7), [at_m(10)] * 4)
    store_fixes(seeded, dwell)
    assert verify_arrivals(seeded, dwell, config=dispatch_config,
                           now=T0 + timedelta(minutes=11)) == []
    assert (a.arrival_source, a.arrived_at) == ("manual", T0 + timedelta(minutes=10))
    ev = assignment_evidence(seeded, a.id, now=T0 + timedelta(minutes=11), scope=EVERYTHING)
    # The manual arrival stored its own evidence (track so far, no GPS arrival) when recorded.
    assert ev["digest_valid"] is True and ev["evidence"]["properties"]["arrival"] is None
    assert ev["evidence"]["properties"]["meta"]["manual_arrival"]["confirmed_by"] == "radio"
    # ... and its audit entry carries that digest into the hash chain.
    entry = seeded.scalars(select(AuditLog).where(
        AuditLog.entity == "assignment", AuditLog.entity_id == a.id,
        AuditLog.action == "arrive:manual")).one()
    assert entry.after["evidence_digest"] == a.evidence_digest == ev["digest"]
    audit.seal(seeded)
    assert seeded.scalar(select(AuditChain.seq).where(AuditChain.audit_id == entry.id))


def test_ingest_hook_returns_arrival_events(seeded, dispatch_config, settings):
    i, u, a = dispatched_fire(seeded, dispatch_config)
    [hook] = ingest_hooks(settings)
    dwell = fixes(datetime.now(UTC) - timedelta(minutes=1), [at_m(5)] * 4)
    a.dispatched_at = datetime.now(UTC) - timedelta(minutes=5)
    store_fixes(seeded, dwell)
    events = hook(seeded, dwell)
    topics = [t for t, _ in events]
    assert "siaga/v1/events/arrival" in topics
    payload = next(p for t, p in events if t == "siaga/v1/events/arrival")
    assert payload["assignment_id"] == a.id and payload["device_id"] == DEVICE
