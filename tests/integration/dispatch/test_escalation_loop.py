"""The API's periodic escalation pass (opt-in with ``escalation_interval_s``): an agency
that missed its acknowledgement time is escalated and an sla event is handed to the sink."""

import time
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dispatch import incident_service as svc
from dispatch.config import parse_config
from dispatch.models import Agency, Incident, IncidentAgency, SlaRule
from dispatch.scoping import EVERYTHING
from dispatch.seed_service import seed_region

KODE = "99.03"
DOC = {"categories": {"public_order": {"kind": "public_service", "agencies": [
    {"agency": "SATPOLPP", "role": "forward"}]}},
       "regions": {KODE: {"agencies": [{"code": "SATPOLPP", "name": "Satpol PP uji"}],
                          "sla": {"default": {"ack_min": 1, "on_scene_min": 60}}}}}


def _cleanup(engine):
    with Session(engine) as s:
        s.execute(delete(IncidentAgency).where(IncidentAgency.kode_kab == KODE))
        s.execute(delete(Incident).where(Incident.kode_kab == KODE))
        s.execute(delete(SlaRule).where(SlaRule.kode_kab == KODE))
        s.execute(delete(Agency).where(Agency.kode_kab == KODE))
        s.commit()


def test_periodic_escalation_publishes_sla_events(engine, settings, database_url):
    from api.app import create_app

    config = parse_config([DOC])
    _cleanup(engine)
    past = datetime.now(UTC) - timedelta(minutes=5)
    try:
        with Session(engine) as s:
            seed_region(s, config, KODE)
            i = svc.create_incident(s, config=config, geocoder=None, kode_kab=KODE,
                                    category="public_order", actor="op", now=past,
                                    scope=EVERYTHING).value
            svc.triage_incident(s, i.id, config=config, actor="op", now=past, scope=EVERYTHING)
            s.commit()
            incident_id = i.id
        published: list = []
        app = create_app(settings.model_copy(update={"database_url": database_url}),
                         escalation_interval_s=0.2, dispatch_config=config,
                         publish_events=published.extend)
        with TestClient(app):
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not published:
                time.sleep(0.1)
        [(topic, payload)] = [m for m in published if m[1].get("incident_id") == incident_id]
        assert topic == "siaga/v1/events/sla" and payload["agency"] == "SATPOLPP"
        assert payload["overdue_s"] >= 240
        with Session(engine) as s:
            ia = s.scalars(select(IncidentAgency).where(
                IncidentAgency.incident_id == incident_id)).one()
            assert ia.escalated_at is not None and ia.escalation_count == 1
    finally:
        _cleanup(engine)
