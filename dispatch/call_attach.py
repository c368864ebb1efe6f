"""Further calls about an incident already recorded: while a call is taken, the open incidents
of the same category nearby are shown as probable duplicates, and the call taker attaches the
call to one of them instead of opening a new incident. Storage, lookup and listing, scoped to
the caller's regencies; functions never commit (the caller owns the unit of work)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from dispatch import audit
from dispatch.duplicates import (
    DEFAULT_RADIUS_M,
    DEFAULT_WINDOW_S,
    IncidentSnapshot,
    find_duplicates,
)
from dispatch.events import Outcome
from dispatch.exceptions import DispatchValidationError
from dispatch.incident_records import get_incident, incident_event, point_of
from dispatch.intake import CHANNELS
from dispatch.lifecycle import OPEN_INCIDENT_STATUSES
from dispatch.models import Incident
from dispatch.privacy import mask_phone
from dispatch.scope import Scope
from dispatch.scoping import check_region, incident_condition
from geo.db import Base
from geo.types import LonLat

__all__ = ["Candidate", "IncidentCall", "attach_call", "calls_of", "duplicate_candidates"]


class IncidentCall(Base):
    """One further call about an incident (the first call is the incident itself)."""

    __tablename__ = "incident_call"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kode_kab: Mapped[str] = mapped_column(String(8), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"),
                                             index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    channel: Mapped[str] = mapped_column(String(24))
    caller_phone: Mapped[str | None] = mapped_column(String(32))
    caller_name: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(Text)


@dataclass(frozen=True)
class Candidate:
    """An open incident the call being taken probably duplicates."""

    incident: Incident
    distance_m: float
    gap_s: float
    calls: int


def duplicate_candidates(session: Session, *, scope: Scope, kode_kab: str, category: str,
                         location: LonLat, now: datetime, radius_m: float = DEFAULT_RADIUS_M,
                         window_s: float = DEFAULT_WINDOW_S, limit: int = 5) -> list[Candidate]:
    """Open real (not drill) incidents of ``category`` in regency ``kode_kab`` within
    ``radius_m`` metres of ``location`` (EPSG:4326) received in the last ``window_s`` seconds,
    nearest first, each with its number of further calls. Another regency: not found."""
    check_region(kode_kab, scope)
    location = LonLat.checked(location.lon, location.lat)
    rows = {r.id: r for r in session.scalars(select(Incident).where(
        Incident.kode_kab == kode_kab, incident_condition(scope),
        Incident.category == category, Incident.drill.is_(False),
        Incident.status.in_(OPEN_INCIDENT_STATUSES),
        Incident.received_at >= now - timedelta(seconds=window_s)))}
    snaps = [IncidentSnapshot(r.id, r.category, point_of(r.geom), r.received_at)
             for r in rows.values()]
    found = find_duplicates(IncidentSnapshot(None, category, location, now), snaps,
                            radius_m=radius_m, window_s=window_s)[:limit]
    counts = _call_counts(session, [c.incident_id for c in found])
    return [Candidate(rows[c.incident_id], c.distance_m, c.gap_s, counts.get(c.incident_id, 0))
            for c in found]


def _call_counts(session: Session, incident_ids: list[int]) -> dict[int, int]:
    if not incident_ids:
        return {}
    rows = session.execute(select(IncidentCall.incident_id, func.count())
                           .where(IncidentCall.incident_id.in_(incident_ids))
                           .group_by(IncidentCall.incident_id))
    return {int(i): int(n) for i, n in rows}


def attach_call(session: Session, incident_id: int, *, scope: Scope, channel: str,
                caller_phone: str | None, caller_name: str | None, note: str, actor: str,
                now: datetime) -> Outcome[IncidentCall]:
    """Record a further call on an open incident (audited on the incident, so it shows in its
    timeline; the caller's number masked in the audit entry). Another regency's incident: not
    found; a closed one: refused."""
    incident = get_incident(session, incident_id, lock=True, scope=scope)
    if channel not in CHANNELS:
        raise DispatchValidationError(f"channel must be one of {CHANNELS}.")
    if incident.status not in OPEN_INCIDENT_STATUSES:
        raise DispatchValidationError(
            f"Kejadian {incident.id} sudah {incident.status}; buat kejadian baru / incident "
            f"{incident.id} is {incident.status}: record a new incident instead.")
    row = IncidentCall(kode_kab=incident.kode_kab, incident_id=incident.id, received_at=now,
                       channel=channel, caller_phone=caller_phone, caller_name=caller_name,
                       note=note, created_by=actor)
    session.add(row)
    incident.updated_at = now
    session.flush()
    audit.record(session, actor=actor, at=now, entity="incident", entity_id=incident.id,
                 action="call_attach",
                 after={"call_id": row.id, "channel": channel, "note": note,
                        "caller_phone": mask_phone(caller_phone)}, kode_kab=incident.kode_kab)
    return Outcome(row, [incident_event(incident, "call_attached")])


def calls_of(session: Session, incident_id: int, *, scope: Scope) -> list[IncidentCall]:
    """The further calls of an incident visible to ``scope``, oldest first."""
    get_incident(session, incident_id, scope=scope)
    return list(session.scalars(select(IncidentCall).where(
        IncidentCall.incident_id == incident_id).order_by(IncidentCall.received_at,
                                                          IncidentCall.id)))
