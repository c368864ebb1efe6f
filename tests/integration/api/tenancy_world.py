"""Two regencies with the same kinds of data, for the tenancy tests.

Each side (Kota Yogyakarta 34.71 and Kabupaten Bangli 51.06) gets: two units of its own (DAMKAR,
PSC119) with registered trackers, a position and a rejected message per tracker, a fire incident
(triaged, a DAMKAR unit assigned), an open exercise, and one user per role bound to that regency
only (the agency desk to DAMKAR) with an API token. Every name carries a random marker, so a
response that leaks the other side's rows can be recognised by text. Rows are committed (the app
reads them through its own connections) and removed by :func:`remove`; audit rows stay (the log
is append-only).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.auth import service as auth_service
from api.auth.models import AppUser, AuthToken
from dispatch import assignment_service, drill, intake
from dispatch.config import load_config
from dispatch.incident_records import to_geom
from dispatch.models import Agency, Assignment, Exercise, Incident, IncidentAgency, Post, Unit
from dispatch.rule_models import ComplaintTicket
from dispatch.scope import Scope
from dispatch.scoping import EVERYTHING
from dispatch.seed_service import fleet_path, seed_region
from geo.types import LonLat
from tracking import service as tracking_service
from tracking.contract import Rejection
from tracking.fix import Fix
from tracking.models import Device, LatestPosition, Position, PositionReject

A, B = "34.71", "51.06"
CENTRE = {A: LonLat(110.3695, -7.8014), B: LonLat(115.3548, -8.2976)}
ROLES = ("dispatcher", "agency", "planner", "viewer", "admin")
DESK_AGENCY = "DAMKAR"
PASSWORD = "rahasia-wilayah-1"


@dataclass
class Side:
    """What one regency holds; ``markers`` are strings that only its rows contain."""

    kode_kab: str
    mark: str
    incident_id: int = 0
    assignment_id: int = 0
    unit_id: int = 0
    other_unit_id: int = 0
    device_id: str = ""
    exercise_id: int = 0
    post_id: int = 0
    complaint_id: int = 0
    ticket_no: str = ""
    token_id: int = 0
    usernames: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def markers(self) -> tuple[str, ...]:
        """Texts that must never appear in a 2xx answer to the other side's users."""
        return (self.mark, self.kode_kab, self.device_id, self.ticket_no)


def _units(session: Session, side: Side) -> None:
    agencies = {a.code: a for a in session.scalars(
        select(Agency).where(Agency.kode_kab == side.kode_kab))}
    ids = []
    for code, profile, caps in ((DESK_AGENCY, "fire_truck", ["pumper"]),
                                ("PSC119", "ambulance", ["ambulance"])):
        device = f"{side.mark}-{code}".lower()
        unit = Unit(kode_kab=side.kode_kab, agency_id=agencies[code].id,
                    call_sign=f"{side.mark}-{code}", vehicle_type=profile, profile=profile,
                    capabilities=caps, device_id=device, status="available")
        session.add(unit)
        session.flush()
        tracking_service.register_device(session, device, kode_kab=side.kode_kab,
                                         label=side.mark)
        ids.append(unit.id)
    side.unit_id, side.other_unit_id = ids
    side.device_id = f"{side.mark}-{DESK_AGENCY}".lower()


def _positions(session: Session, side: Side, now: datetime) -> None:
    centre = CENTRE[side.kode_kab]
    fixes = [Fix(device_id=f"{side.mark}-{code}".lower(), fix_time=now - timedelta(seconds=30),
                 lon=centre.lon + 0.001, lat=centre.lat, speed_mps=0.0, seq=1, received_at=now)
             for code in (DESK_AGENCY, "PSC119")]
    rejects = [Rejection(topic=f"siaga/v1/pos/{side.device_id}", device_id=side.device_id,
                         reason="bad_json", message="JSON rusak", message_en="bad JSON",
                         payload=b"{" + side.mark.encode(), received_at=now)]
    tracking_service.write_batch(session, fixes, rejects)


def build_side(engine: Any, kode_kab: str) -> Side:
    side = Side(kode_kab=kode_kab, mark=f"TN{kode_kab.replace('.', '')}X{uuid.uuid4().hex[:6]}")
    config = load_config()
    everything = Scope.everything()
    now = datetime.now(UTC)
    with Session(engine) as session:
        seed_region(session, config, kode_kab, fleet=fleet_path(kode_kab))
        _units(session, side)
        _positions(session, side, now)
        centre = CENTRE[kode_kab]
        post = Post(kode_kab=kode_kab, agency_code=DESK_AGENCY, name=f"Pos {side.mark}",
                    kind="fire_station", geom=to_geom(centre), address=side.mark)
        session.add(post)
        session.flush()
        side.post_id = post.id
        incident = intake.create_incident(
            session, config=config, geocoder=None, category="fire", actor=side.mark,
            kode_kab=kode_kab, location=centre, description=f"Kebakaran {side.mark}",
            caller_name=f"Pelapor {side.mark}", caller_phone="081234567890", scope=EVERYTHING).value
        intake.triage_incident(session, incident.id, config=config, actor=side.mark,
                               scope=EVERYTHING)
        side.incident_id = incident.id
        complaint = intake.create_incident(
            session, config=config, geocoder=None, category="road_damage", actor=side.mark,
            kode_kab=kode_kab, location=centre, description=f"Jalan rusak {side.mark}",
            scope=EVERYTHING).value
        intake.triage_incident(session, complaint.id, config=config, actor=side.mark,
                               scope=EVERYTHING)
        side.complaint_id = complaint.id
        side.ticket_no = session.scalars(select(ComplaintTicket.ticket_no).where(
            ComplaintTicket.incident_id == complaint.id)).one()
        side.assignment_id = assignment_service.assign_unit(
            session, incident.id, side.unit_id, config=config, actor=side.mark,
            scope=EVERYTHING).value.id
        side.exercise_id = drill.create_exercise(
            session, scope=everything, kode_kab=kode_kab, name=f"Latihan {side.mark}",
            actor=side.mark).id
        for role in ROLES:
            name = f"{side.mark}-{role}".lower()
            auth_service.create_user(session=session, username=name, password=PASSWORD,
                                     role=role, kode_kabs=[kode_kab],
                                     agency_code=DESK_AGENCY if role == "agency" else None,
                                     scope=EVERYTHING)
            issued = auth_service.issue_api_token(session=session, username=name, name="uji",
                                                  scope=EVERYTHING)
            side.usernames[role], side.tokens[role] = name, issued.token
            if role == "admin":
                side.token_id = issued.token_id
        session.commit()
    return side


def snapshot(engine: Any, side: Side) -> dict[str, Any]:
    """Everything a write by the other side could change, as plain values."""
    with Session(engine) as s:
        kab = side.kode_kab
        return {
            "incidents": s.execute(select(
                Incident.id, Incident.status, Incident.updated_at, Incident.duplicate_of,
                Incident.kind, Incident.priority).where(Incident.kode_kab == kab)
                .order_by(Incident.id)).all(),
            "incident_agencies": s.execute(select(
                IncidentAgency.id, IncidentAgency.acknowledged_at, IncidentAgency.handoff_ref,
                IncidentAgency.escalated_at).where(IncidentAgency.kode_kab == kab)
                .order_by(IncidentAgency.id)).all(),
            "assignments": s.execute(select(
                Assignment.id, Assignment.status, Assignment.acknowledged_at,
                Assignment.departed_at, Assignment.arrived_at, Assignment.cleared_at)
                .where(Assignment.kode_kab == kab).order_by(Assignment.id)).all(),
            "units": s.execute(select(Unit.id, Unit.status).where(Unit.kode_kab == kab)
                               .order_by(Unit.id)).all(),
            "tickets": s.execute(select(ComplaintTicket.id, ComplaintTicket.status,
                                        ComplaintTicket.updated_at)
                                 .where(ComplaintTicket.kode_kab == kab)
                                 .order_by(ComplaintTicket.id)).all(),
            "posts": s.execute(select(Post.id, Post.name, Post.updated_at)
                               .where(Post.kode_kab == kab).order_by(Post.id)).all(),
            "devices": s.execute(select(Device.device_id, Device.registered, Device.kode_kab)
                                 .where(Device.kode_kab == kab).order_by(Device.device_id)).all(),
            "exercises": s.execute(select(Exercise.id, Exercise.ended_at)
                                   .where(Exercise.kode_kab == kab).order_by(Exercise.id)).all(),
            "users": s.execute(select(AppUser.username, AppUser.active, AppUser.kode_kabs)
                               .where(AppUser.kode_kabs.any(kab)).order_by(AppUser.id)).all(),
            "tokens": s.execute(select(AuthToken.id, AuthToken.revoked_at)
                                .join(AppUser, AppUser.id == AuthToken.user_id)
                                .where(AppUser.kode_kabs.any(kab))
                                .order_by(AuthToken.id)).all(),
        }


def remove(engine: Any, side: Side) -> None:
    """Delete the side's rows (units, incidents, trackers, users); audit rows stay."""
    with Session(engine) as s:
        incidents = select(Incident.id).where(Incident.created_by == side.mark)
        s.execute(delete(Assignment).where(Assignment.incident_id.in_(incidents)))
        s.execute(delete(ComplaintTicket).where(ComplaintTicket.incident_id.in_(incidents)))
        s.execute(delete(IncidentAgency).where(IncidentAgency.incident_id.in_(incidents)))
        s.execute(delete(Incident).where(Incident.created_by == side.mark))
        s.execute(delete(Exercise).where(Exercise.created_by == side.mark))
        s.execute(delete(Post).where(Post.address == side.mark))
        s.execute(delete(Unit).where(Unit.call_sign.like(f"{side.mark}-%")))
        devices = [f"{side.mark}-{c}".lower() for c in (DESK_AGENCY, "PSC119")]
        for model in (Position, LatestPosition, PositionReject, Device):
            s.execute(delete(model).where(model.device_id.in_(devices)))
        s.execute(delete(AppUser).where(AppUser.username.like(f"{side.mark.lower()}-%")))
        s.commit()


def tenancy_app(settings: Any, database_url: str, engine: Any,
                tmp_path_factory: Any) -> Iterator[tuple[TestClient, Side, Side]]:
    """Both regencies' worlds and one client of the app (no credentials of its own), for a
    module-scoped fixture; removes the worlds afterwards."""
    from api.app import create_app
    from api.services import LiveOptions
    from tracking.mqtt_accounts import MosquittoFileAccounts

    logins = tmp_path_factory.mktemp("tracker-logins")  # never written: every call is refused

    a, b = build_side(engine, A), build_side(engine, B)
    app = create_app(settings.model_copy(update={"database_url": database_url}),
                     publish_events=lambda messages: None,
                     live=LiveOptions(window_s=0.05, recheck_s=3600.0),
                     tracker_accounts=MosquittoFileAccounts(logins / "passwd", logins / "acl"))
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client, a, b
    finally:
        remove(engine, a)
        remove(engine, b)
