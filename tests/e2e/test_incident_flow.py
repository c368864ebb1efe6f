"""End to end on Kota Yogyakarta with real PostGIS, the real geocoder and the real road network:
a call placed by kelurahan name is geocoded and triaged; DAMKAR units are ranked by road ETA,
which differs from the straight-line order (the nearer truck is across the railway and the
one-way Malioboro/Mangkubumi grid); the fastest is assigned, acknowledges, departs, its GPS track
proves arrival inside the SLA, it clears; statuses, SLA outcomes and audit entries are checked."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from dispatch import assignment_service as asg
from dispatch import incident_service as svc
from dispatch.models import Unit
from dispatch.recommend_service import recommend
from dispatch.report_service import assignment_sla, sla_report
from dispatch.scoping import EVERYTHING
from dispatch.timestamp import iso_utc
from dispatch.verification import assignment_evidence, verify_arrivals
from tests.fixtures.dispatch import assigned_truck, make_fix, store_fixes

T0 = datetime(2026, 8, 17, 2, 0, tzinfo=UTC)
#: YK-DAMKAR-02 parked in Bumijo (Jetis): ~1.6 km straight line, but north of the railway.
NEAR_BUT_SLOW = (110.35873, -7.78172)
#: YK-DAMKAR-01 in Terban (Gondokusuman): ~2.0 km straight line, direct roads.
FAR_BUT_FAST = (110.38209, -7.78292)


def unit(session, call_sign):
    return session.scalars(select(Unit).where(Unit.call_sign == call_sign)).one()


@pytest.mark.slow
def test_call_by_kelurahan_to_gps_verified_arrival(seeded, dispatch_config, geocoder,
                                                    road_networks):
    session = seeded
    store_fixes(session, [
        make_fix("yk-damkar-02", T0 - timedelta(minutes=1), *NEAR_BUT_SLOW, seq=1),
        make_fix("yk-damkar-01", T0 - timedelta(minutes=1), *FAR_BUT_FAST, seq=1),
    ])
    # 1. the call: "rumah terbakar di Kelurahan Suryatmajan"
    incident = svc.create_incident(
        session, config=dispatch_config, geocoder=geocoder, category="fire",
        place="Kelurahan Suryatmajan", kode_kab="34.71", caller_phone="081234567890",
        description="Rumah terbakar, asap tebal", actor="op112", received_at=T0, now=T0,
        scope=EVERYTHING).value
    assert (incident.kode_desa, incident.nama_desa, incident.nama_kec) == (
        "34.71.04.1001", "Suryatmajan", "Danurejan")
    # 2. triage: Damkar sends a pumper, PSC 119 on standby
    svc.triage_incident(session, incident.id, config=dispatch_config, actor="op112", now=T0,
                        scope=EVERYTHING)
    assert (incident.status, incident.kind, incident.priority) == ("triaged", "emergency", 1)
    # 3. recommendations by road ETA
    recs = {r.agency: r for r in recommend(session, incident.id, config=dispatch_config,
                                           road_networks=road_networks, scope=EVERYTHING)}
    assert set(recs) == {"DAMKAR", "PSC119"}
    damkar = recs["DAMKAR"].units
    by_sign = {u.call_sign: u for u in damkar}
    assert set(by_sign) == {"YK-DAMKAR-01", "YK-DAMKAR-02", "YK-DAMKAR-03"}  # pumpers only
    fast, slow = by_sign["YK-DAMKAR-01"], by_sign["YK-DAMKAR-02"]
    assert not fast.estimated and not slow.estimated
    assert fast.position_source == slow.position_source == "gps"
    assert by_sign["YK-DAMKAR-03"].position_source == "station"
    assert slow.straight_line_m < fast.straight_line_m  # straight line says 02 ...
    assert fast.eta_s < slow.eta_s  # ... the road network says 01
    assert [u.call_sign for u in damkar] == sorted(by_sign, key=lambda s: by_sign[s].eta_s)
    straight_order = sorted(by_sign, key=lambda s: by_sign[s].straight_line_m)
    assert [u.call_sign for u in damkar] != straight_order
    assert damkar[0].call_sign == "YK-DAMKAR-01" and damkar[0].sla_can_be_met is True
    # 4. assign the fastest; 5. acknowledge, depart
    u1 = unit(session, "YK-DAMKAR-01")
    a = asg.assign_unit(session, incident.id, u1.id, config=dispatch_config, actor="op112",
                        road_networks=road_networks, now=T0 + timedelta(minutes=1),
                        scope=EVERYTHING).value
    assert a.eta_s == pytest.approx(fast.eta_s, rel=1e-3) and not a.estimated
    assert (u1.status, incident.status) == ("dispatched", "dispatched")
    asg.acknowledge(session, a.id, actor="damkar-siaga", now=T0 + timedelta(minutes=2),
                    scope=EVERYTHING)
    asg.depart(session, a.id, actor="damkar-siaga", now=T0 + timedelta(minutes=2, seconds=30),
               scope=EVERYTHING)
    assert u1.status == "en_route"
    # 6. the tracker reports the run and the dwell at the scene; verification proves arrival
    scene = svc.point_of(incident.geom)
    start, end = FAR_BUT_FAST, (scene.lon, scene.lat)
    track = [make_fix("yk-damkar-01", T0 + timedelta(minutes=3, seconds=30 * k),
                      start[0] + (end[0] - start[0]) * k / 10,
                      start[1] + (end[1] - start[1]) * k / 10, speed_mps=9.0, seq=10 + k)
             for k in range(10)]
    track += [make_fix("yk-damkar-01", T0 + timedelta(minutes=8, seconds=10 * k),
                       end[0] + 0.0001 * (k % 2), end[1], speed_mps=0.3, seq=20 + k)
              for k in range(4)]
    store_fixes(session, track)
    events = verify_arrivals(session, track, config=dispatch_config,
                             now=T0 + timedelta(minutes=9))
    arrival = next(e for e in events if e.kind == "arrival")
    assert arrival.payload["sla"]["status"] == "met"
    assert (a.arrival_source, a.arrived_at) == ("gps", T0 + timedelta(minutes=8))
    assert (u1.status, incident.status) == ("on_scene", "on_scene")
    ia = {c.code: x for x, c in svc.incident_agencies(session, incident.id)}["DAMKAR"]
    sla = assignment_sla(session, a, ia, T0 + timedelta(minutes=9))
    # the fire SPM counts from the receipt of the call (T0), not from the dispatch (T0+1)
    assert sla["status"] == "met" and sla["response_s"] == 8 * 60
    evidence = assignment_evidence(session, a.id, scope=EVERYTHING)
    assert evidence["digest_valid"] and evidence["digest"] == a.evidence_digest
    # 7. clear, resolve, close
    asg.clear(session, a.id, actor="damkar-siaga", now=T0 + timedelta(minutes=50), scope=EVERYTHING)
    assert (u1.status, a.status) == ("returning", "cleared")
    svc.change_incident_status(session, incident.id, "resolved", actor="op112",
                               now=T0 + timedelta(minutes=55), scope=EVERYTHING)
    svc.change_incident_status(session, incident.id, "closed", actor="supervisor",
                               reason="selesai", now=T0 + timedelta(hours=2), scope=EVERYTHING)
    assert incident.status == "closed"
    # SLA report: one DAMKAR response of 7 min (met); PSC 119 never acknowledged (breached)
    report = sla_report(session, kode_kab="34.71", start=T0, end=T0 + timedelta(hours=1),
                        now=T0 + timedelta(hours=3), scope=EVERYTHING)
    assert report.agency("DAMKAR").on_scene.mean_response_s == 420
    assert report.agency("DAMKAR").acknowledgement.met == 1
    assert report.agency("PSC119").acknowledgement.breached == 1
    # the audit trail tells the whole story, with who did what
    trail = [(e.entity, e.action, e.actor) for e in svc.timeline(session, incident.id,
                                                                 scope=EVERYTHING)]
    assert trail == [
        ("incident", "create", "op112"),
        ("incident", "triage", "op112"),
        ("assignment", "assign", "op112"),
        ("incident", "status:dispatched", "op112"),
        ("assignment", "acknowledge", "damkar-siaga"),
        ("assignment", "depart", "damkar-siaga"),
        ("assignment", "arrive:gps", "system:gps"),
        ("incident", "status:on_scene", "system:gps"),
        ("assignment", "clear", "damkar-siaga"),
        ("incident", "status:resolved", "op112"),
        ("incident", "status:closed", "supervisor"),
    ]


@pytest.mark.slow
def test_mqtt_fixes_to_verified_arrival_event(engine, mqtt_url):
    """Fixes published on MQTT → ingest worker (with the dispatch hook) → arrival event on
    ``siaga/v1/events/arrival`` and a GPS arrival on the assignment. Committed data in a
    test-only region (99.04), removed afterwards."""
    import contextlib
    import json
    import threading
    import time
    import uuid

    import paho.mqtt.client as mqtt
    from sqlalchemy.orm import Session

    from api.db import make_sessionmaker
    from api.ingest_hooks import arrival_verification_hook
    from dispatch.models import Assignment
    from tests.fixtures.tracking import mqtt_host_port
    from tracking.ingest import IngestConfig, IngestWorker

    token = uuid.uuid4().hex[:8]
    scene_data = contextlib.ExitStack()
    world = scene_data.enter_context(assigned_truck(engine, kode="99.04", call_sign=f"E2E-{token}",
                                                    device=f"e2e-{token}"))
    config, device, scene, now = world.config, world.device, world.scene, world.now
    assignment_id = world.assignment_id

    events: list[dict] = []
    got = threading.Event()
    host, port = mqtt_host_port(mqtt_url)
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"e2e-sub-{token}")
    subscribed = threading.Event()

    def on_message(client, userdata, msg):
        payload = json.loads(msg.payload)
        if payload.get("assignment_id") == assignment_id:
            events.append(payload)
            got.set()

    sub.on_message = on_message
    prefix = f"test/{token}/"  # the worker's topics, its events included
    sub.on_connect = lambda c, *a: c.subscribe(f"{prefix}siaga/v1/events/arrival", qos=1)
    sub.on_subscribe = lambda *a: subscribed.set()
    sub.connect(host, port)
    sub.loop_start()
    worker = IngestWorker(make_sessionmaker(engine),
                          IngestConfig(mqtt_url=mqtt_url, client_id=f"e2e-ingest-{token}",
                                       topic_prefix=prefix, batch_max_delay_s=0.05,
                                       session_expiry_s=60),
                          hooks=[arrival_verification_hook(config)])
    runner = threading.Thread(target=worker.run, daemon=True)
    try:
        assert subscribed.wait(10)
        runner.start()
        time.sleep(1.0)  # let the worker subscribe (persistent session thereafter)
        fixes = [{"v": 1, "device_id": device, "seq": k,
                  "fix_time": (now - timedelta(seconds=60 - 10 * k)).strftime(
                      "%Y-%m-%dT%H:%M:%SZ"),
                  "lat": scene.lat, "lon": scene.lon + 0.0002 * (k % 2), "speed_mps": 0.2}
                 for k in range(5)]
        pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"e2e-pub-{token}")
        pub.connect(host, port)
        pub.loop_start()
        pub.publish(f"{prefix}siaga/v1/pos/{device}", json.dumps(fixes), qos=1).wait_for_publish(10)
        pub.disconnect()
        pub.loop_stop()
        assert got.wait(20), "no arrival event"
        [event] = events
        assert event["action"] == "arrived" and event["device_id"] == device
        assert event["arrived_at"] == iso_utc(now - timedelta(seconds=60))
        assert event["sla"]["status"] == "met"
        with Session(engine) as s:
            stored = s.get(Assignment, assignment_id)
            assert stored.arrival_source == "gps" and stored.evidence_digest == event[
                "evidence_digest"]
    finally:
        worker.stop()
        runner.join(timeout=10)
        sub.disconnect()
        sub.loop_stop()
        scene_data.close()
