"""Two dispatchers assign the same unit at the same moment, on two real connections: exactly one
succeeds, the other gets UnitUnavailable (the row lock makes the second wait, then see it)."""

import threading
import time
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dispatch import assignment_service as asg
from dispatch import incident_service as svc
from dispatch.config import parse_config
from dispatch.exceptions import UnitUnavailable
from dispatch.models import Agency, Assignment, Incident, IncidentAgency, SlaRule, Station, Unit
from dispatch.scoping import EVERYTHING
from dispatch.seed_service import seed_region
from geo.types import LonLat

KODE = "99.01"  # a test-only region code, cleaned up afterwards (audit rows stay: append-only)
CONFIG_DOC = {
    "categories": {"fire": {"kind": "emergency", "priority": 1, "agencies": [
        {"agency": "DAMKAR", "role": "dispatch", "capabilities": ["pumper"]}]}},
    "regions": {KODE: {"name": "Uji konkurensi", "agencies": [
        {"code": "DAMKAR", "name": "Damkar uji"}],
        "sla": {"default": {"ack_min": 2, "on_scene_min": 15}}}},
}
FLEET = {"kode_kab": KODE, "illustrative": True,
         "stations": [{"code": "S1", "agency": "DAMKAR", "name": "Pos uji", "lon": 110.0,
                       "lat": -7.0}],
         "units": [{"call_sign": "RACE-01", "agency": "DAMKAR", "vehicle_type": "pumper",
                    "profile": "fire_truck", "capabilities": ["pumper"], "station": "S1"}]}


def _cleanup(engine):
    with Session(engine) as s:
        ids = s.scalars(select(Incident.id).where(Incident.kode_kab == KODE)).all()
        s.execute(delete(Assignment).where(Assignment.kode_kab == KODE))
        s.execute(delete(IncidentAgency).where(IncidentAgency.kode_kab == KODE))
        s.execute(delete(Incident).where(Incident.id.in_(ids)))
        for model in (Unit, Station, SlaRule, Agency):
            s.execute(delete(model).where(model.kode_kab == KODE))
        s.commit()


def test_concurrent_assignment_of_one_unit(engine):
    config = parse_config([CONFIG_DOC])
    _cleanup(engine)
    try:
        with Session(engine) as s:
            seed_region(s, config, KODE, fleet=FLEET)
            incidents = []
            for n in range(2):
                i = svc.create_incident(s, config=config, geocoder=None, kode_kab=KODE,
                                        category="fire", actor=f"op{n}",
                                        location=LonLat(110.01 + n / 100, -7.01),
                                        scope=EVERYTHING).value
                svc.triage_incident(s, i.id, config=config, actor=f"op{n}", scope=EVERYTHING)
                incidents.append(i.id)
            unit_id = s.scalars(select(Unit.id).where(Unit.call_sign == "RACE-01")).one()
            s.commit()

        barrier = threading.Barrier(2)
        results: dict[int, str] = {}

        def dispatcher(n: int) -> None:
            with Session(engine) as s:
                barrier.wait()
                try:
                    asg.assign_unit(s, incidents[n], unit_id, config=config, actor=f"op{n}",
                                    now=datetime.now(UTC), scope=EVERYTHING)
                    time.sleep(0.3)  # hold the lock while the other dispatcher tries
                    s.commit()
                    results[n] = "assigned"
                except UnitUnavailable:
                    s.rollback()
                    results[n] = "unavailable"

        threads = [threading.Thread(target=dispatcher, args=(n,)) for n in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert sorted(results.values()) == ["assigned", "unavailable"]
        with Session(engine) as s:
            rows = s.scalars(select(Assignment).where(Assignment.unit_id == unit_id)).all()
            assert len(rows) == 1 and rows[0].status == "active"
            assert s.get(Unit, unit_id).status == "dispatched"
            winner = next(n for n, r in results.items() if r == "assigned")
            assert rows[0].incident_id == incidents[winner]
    finally:
        _cleanup(engine)
