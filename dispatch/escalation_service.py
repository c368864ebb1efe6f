"""Escalation of agencies (OPD) that have not acknowledged an incident within their
acknowledgement minutes: marked, audited, an ``sla`` event with the next recommended unit, and a
notification to each of the agency's standby-line channels (``dispatch.notification_service``),
all in the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import audit
from dispatch.config import DispatchConfig
from dispatch.escalation import AgencyClock, due_escalations
from dispatch.events import DomainEvent, Outcome
from dispatch.incident_records import utcnow
from dispatch.lifecycle import OPEN_INCIDENT_STATUSES, UNIT_SENDING_ROLES
from dispatch.models import Agency, Incident, IncidentAgency
from dispatch.notification_service import enqueue
from dispatch.ports import RoadNetworks
from dispatch.ranking import Recommendation
from dispatch.recommend_service import recommend, recommendation_dict
from dispatch.scope import Scope
from dispatch.scoping import kab_condition
from dispatch.timestamp import iso_utc

__all__ = ["Escalation", "check_escalations"]


@dataclass(frozen=True)
class Escalation:
    """One agency escalated on one incident, with the next unit the rules would send (for an
    agency whose role sends units and which has one reachable)."""

    incident_id: int
    agency: str
    role: str
    ack_deadline: datetime
    overdue_s: float
    next_unit: Recommendation | None

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: the ``sla`` event's payload and an ``EscalationOut`` of the API."""
        return {"action": "escalated", "incident_id": self.incident_id, "agency": self.agency,
                "role": self.role, "ack_deadline": iso_utc(self.ack_deadline),
                "overdue_s": self.overdue_s,
                "next_unit": None if self.next_unit is None
                else recommendation_dict(self.next_unit)}


def check_escalations(
    session: Session,
    *,
    config: DispatchConfig,
    now: datetime | None = None,
    kode_kab: str | None = None,
    road_networks: RoadNetworks | None = None,
    profiles: Mapping[str, Any] | None = None,
    scope: Scope,
) -> Outcome[list[Escalation]]:
    """Escalate every agency that has not acknowledged within its ack minutes at ``now``: mark
    it, audit it, and return an ``sla`` event carrying the next recommended unit."""
    now = now or utcnow()
    stmt = (select(IncidentAgency, Agency.code)
            .join(Agency, Agency.id == IncidentAgency.agency_id)
            .join(Incident, Incident.id == IncidentAgency.incident_id)
            .where(Incident.status.in_(OPEN_INCIDENT_STATUSES),
                   IncidentAgency.acknowledged_at.is_(None),
                   IncidentAgency.escalated_at.is_(None),
                   IncidentAgency.notified_at.is_not(None),
                   kab_condition(IncidentAgency.kode_kab, scope)))
    if kode_kab:
        stmt = stmt.where(IncidentAgency.kode_kab == kode_kab)
    rows = {ia.id: (ia, code) for ia, code in session.execute(stmt)}
    clocks = [AgencyClock(ia.id, ia.incident_id, code, ia.notified_at, ia.acknowledged_at,
                          ia.escalated_at, ia.ack_min) for ia, code in rows.values()]
    escalated, events = [], []
    for due in due_escalations(clocks, now):
        ia, code = rows[due.incident_agency_id]
        before = {"escalated_at": None, "escalation_count": ia.escalation_count}
        ia.escalated_at, ia.escalation_count = now, ia.escalation_count + 1
        audit.record(session, actor="system:escalation", at=now, entity="incident_agency",
                     entity_id=ia.id, action="escalate", before=before,
                     after={"escalated_at": now, "escalation_count": ia.escalation_count,
                            "ack_deadline": due.ack_deadline, "overdue_s": due.overdue_s},
                     kode_kab=ia.kode_kab)
        next_unit = None
        if ia.role in UNIT_SENDING_ROLES:
            recs = recommend(session, ia.incident_id, config=config, road_networks=road_networks,
                             profiles=profiles, agency_codes=[code], limit=1, scope=scope)
            next_unit = recs[0].first_reachable if recs else None
        item = Escalation(ia.incident_id, code, ia.role, due.ack_deadline, due.overdue_s,
                          next_unit)
        escalated.append(item)
        events.append(DomainEvent("sla", item.as_dict()))
        # the standby line hears of it too (delivered by the worker after the commit)
        incident = session.get(Incident, ia.incident_id)
        enqueue(session, kind="escalation", kode_kab=ia.kode_kab, agency_code=code,
                incident_id=ia.incident_id, now=now,
                data={"overdue_s": due.overdue_s,
                      "place": (incident.nama_desa or incident.place_text or "") if incident
                      else ""})
    return Outcome(escalated, events)
