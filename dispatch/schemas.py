"""Pydantic request bodies and JSON serializers of dispatch (caller numbers masked by default)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dispatch.models import Agency, Assignment, Incident, IncidentAgency, Unit
from dispatch.privacy import mask_phone
from dispatch.service import CHANNELS, point_of


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Actor(_Body):
    actor: str = Field("dispatcher", min_length=1, max_length=120)


class IncidentCreate(_Body):
    category: str = Field(min_length=1, max_length=48)
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    place: str | None = Field(None, min_length=2, max_length=200)
    kode_kab: str | None = Field(None, pattern=r"^\d{2}\.\d{2}$")
    description: str = Field("", max_length=4000)
    channel: str = "phone_112"
    caller_phone: str | None = Field(None, pattern=r"^\+?[0-9 ()-]{3,24}$")
    caller_name: str | None = Field(None, max_length=200)
    received_at: datetime | None = None
    actor: str = Field("dispatcher", min_length=1, max_length=120)

    @field_validator("channel")
    @classmethod
    def _channel(cls, v: str) -> str:
        if v not in CHANNELS:
            raise ValueError(f"must be one of {', '.join(CHANNELS)}")
        return v

    @field_validator("received_at")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("must include a timezone (UTC, e.g. 2026-01-01T08:00:00Z)")
        return v

    @model_validator(mode="after")
    def _where(self) -> IncidentCreate:
        if (self.lon is None) != (self.lat is None):
            raise ValueError("lon and lat go together")
        if self.lon is None and not self.place and not self.kode_kab:
            raise ValueError("give lon/lat, a place name, or at least kode_kab")
        return self


class AgencyRequirementIn(_Body):
    agency: str = Field(min_length=1, max_length=32)
    role: Literal["dispatch", "standby", "forward", "handoff"] = "dispatch"
    capabilities: list[str] = []
    units: int = Field(1, ge=0, le=20)


class TriageRequest(_Body):
    actor: str = Field("dispatcher", min_length=1, max_length=120)
    kind: Literal["emergency", "public_service"] | None = None
    priority: int | None = Field(None, ge=1, le=5)
    agencies: list[AgencyRequirementIn] | None = None
    reason: str = Field("", max_length=1000)

    @property
    def is_override(self) -> bool:
        return self.kind is not None or self.priority is not None or self.agencies is not None


class AssignRequest(_Body):
    incident_id: int = Field(ge=1, le=2**31 - 1)
    unit_id: int = Field(ge=1, le=2**31 - 1)
    actor: str = Field("dispatcher", min_length=1, max_length=120)


class ArriveRequest(Actor):
    at: datetime | None = None


class UnitStatusPatch(_Body):
    status: Literal["available", "returning", "out_of_service"]
    actor: str = Field("dispatcher", min_length=1, max_length=120)
    reason: str = Field("", max_length=500)


class IncidentStatusRequest(_Body):
    status: Literal["resolved", "closed", "cancelled", "duplicate"]
    duplicate_of: int | None = Field(None, ge=1, le=2**31 - 1)
    actor: str = Field("dispatcher", min_length=1, max_length=120)


class AgencyActionRequest(_Body):
    actor: str = Field("dispatcher", min_length=1, max_length=120)
    reference: str | None = Field(None, max_length=120)


def _iso(v: datetime | None) -> str | None:
    return v.isoformat() if v is not None else None


def incident_out(i: Incident, *, reveal_caller: bool = False) -> dict[str, Any]:
    loc = point_of(i.geom)
    return {
        "id": i.id, "kode_kab": i.kode_kab, "received_at": _iso(i.received_at),
        "channel": i.channel,
        "caller_phone": i.caller_phone if reveal_caller else mask_phone(i.caller_phone),
        "caller_name": i.caller_name if reveal_caller else None,
        "location": None if loc is None else {"lon": loc.lon, "lat": loc.lat},
        "place_text": i.place_text, "kode_desa": i.kode_desa, "nama_desa": i.nama_desa,
        "kode_kec": i.kode_kec, "nama_kec": i.nama_kec, "match": i.match,
        "description": i.description, "kind": i.kind, "category": i.category,
        "priority": i.priority, "status": i.status, "duplicate_of": i.duplicate_of,
        "probable_duplicate_of": i.probable_duplicate_of,
        "triage_overridden": i.triage_overridden, "updated_at": _iso(i.updated_at),
    }


def incident_agency_out(ia: IncidentAgency, agency: Agency) -> dict[str, Any]:
    return {
        "agency": agency.code, "name": agency.name, "kind": agency.kind, "role": ia.role,
        "required": ia.required, "capabilities": list(ia.capabilities),
        "units_required": ia.units_required, "ack_min": ia.ack_min,
        "on_scene_min": ia.on_scene_min, "notified_at": _iso(ia.notified_at),
        "acknowledged_at": _iso(ia.acknowledged_at), "acknowledged_by": ia.acknowledged_by,
        "escalated_at": _iso(ia.escalated_at), "escalation_count": ia.escalation_count,
        "handoff_number": ia.handoff_number, "handoff_ref": ia.handoff_ref,
        "handoff_at": _iso(ia.handoff_at),
    }


def assignment_out(a: Assignment, *, sla: dict | None = None) -> dict[str, Any]:
    return {
        "id": a.id, "incident_id": a.incident_id, "unit_id": a.unit_id, "agency_id": a.agency_id,
        "kode_kab": a.kode_kab, "status": a.status, "dispatched_at": _iso(a.dispatched_at),
        "dispatched_by": a.dispatched_by, "acknowledged_at": _iso(a.acknowledged_at),
        "departed_at": _iso(a.departed_at), "arrived_at": _iso(a.arrived_at),
        "cleared_at": _iso(a.cleared_at), "eta_s": a.eta_s, "distance_m": a.distance_m,
        "estimated": a.estimated, "position_source": a.position_source,
        "arrival_source": a.arrival_source, "arrived_by": a.arrived_by,
        "evidence_digest": a.evidence_digest, "sla": sla,
    }


def unit_out(u: Unit, agency: Agency, position: dict | None = None) -> dict[str, Any]:
    return {
        "id": u.id, "kode_kab": u.kode_kab, "call_sign": u.call_sign, "agency": agency.code,
        "vehicle_type": u.vehicle_type, "profile": u.profile,
        "capabilities": list(u.capabilities), "station_id": u.station_id,
        "device_id": u.device_id, "status": u.status,
        "status_changed_at": _iso(u.status_changed_at), "illustrative": u.illustrative,
        "last_position": position,
    }


def agency_out(a: Agency) -> dict[str, Any]:
    return {"id": a.id, "kode_kab": a.kode_kab, "code": a.code, "name": a.name,
            "name_en": a.name_en, "kind": a.kind, "standby_contact": a.standby_contact,
            "handoff_number": a.handoff_number}


def audit_out(e: Any) -> dict[str, Any]:
    return {"at": _iso(e.at), "actor": e.actor, "entity": e.entity, "entity_id": e.entity_id,
            "action": e.action, "before": e.before, "after": e.after}
