"""Pydantic request bodies and JSON serializers of dispatch (caller numbers masked by default)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)

from dispatch.incident_records import point_of
from dispatch.intake import CHANNELS
from dispatch.models import Agency, Assignment, Incident, IncidentAgency, Unit
from dispatch.privacy import mask_phone
from dispatch.timestamp import iso_utc

#: The range of times the platform accepts, by the date as written: years 1970-2099, and
#: 2100-01-01T00:00:00 as the end of a range. The database stores any ``timestamptz``, but a year
#: 1 or 9999 overflows as soon as a time zone or a window is applied to it.
EARLIEST_YEAR, LATEST_YEAR = 1970, 2099
RANGE_END = datetime(2100, 1, 1)
TIMESTAMP_PATTERN = (r"^(?:(?:19[7-9][0-9]|20[0-9][0-9])-.*|2100-01-01[Tt]00:00:00(?:\.0+)?)"
                     r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})$")


def _sane_time(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must include a timezone (UTC, e.g. 2026-01-01T08:00:00Z)")
    if not (EARLIEST_YEAR <= value.year <= LATEST_YEAR
            or value.replace(tzinfo=None) == RANGE_END):
        raise ValueError("must be between 1970-01-01 and 2100-01-01")
    return value


#: An aware datetime in 1970..2099; the OpenAPI document states the pattern.
Timestamp = Annotated[datetime, AfterValidator(_sane_time), WithJsonSchema(
    {"type": "string", "format": "date-time", "pattern": TIMESTAMP_PATTERN,
     "description": "RFC 3339 with a time zone, 1970-01-01 to 2100-01-01"})]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Actor(_Body):
    actor: str = Field("dispatcher", min_length=1, max_length=120)


class IncidentCreate(_Body):
    # Where: lon+lat, a place name, or at least kode_kab (stated in the JSON schema too). The
    # location fields may be left out but not sent as null.
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "anyOf": [{"required": ["lon", "lat"]}, {"required": ["place"]},
                  {"required": ["kode_kab"]}],
        "dependentRequired": {"lon": ["lat"], "lat": ["lon"]}})

    category: str = Field(min_length=1, max_length=48)
    lon: float = Field(None, ge=-180, le=180)  # type: ignore[assignment]
    lat: float = Field(None, ge=-90, le=90)  # type: ignore[assignment]
    place: str = Field(None, min_length=2, max_length=200)  # type: ignore[assignment]
    kode_kab: str = Field(None, pattern=r"^\d{2}\.\d{2}$")  # type: ignore[assignment]
    description: str = Field("", max_length=4000)
    channel: Literal[CHANNELS] = "phone_112"  # type: ignore[valid-type]
    caller_phone: str | None = Field(None, pattern=r"^\+?[0-9 ()-]{3,24}$")
    caller_name: str | None = Field(None, max_length=200)
    received_at: Timestamp | None = None
    actor: str = Field("dispatcher", min_length=1, max_length=120)
    drill: bool = Field(False, description="Latihan / a drill, not a real emergency")
    exercise_id: int | None = Field(None, ge=1, le=2**31 - 1,
                                    description="Exercise (latihan) it belongs to; implies drill")

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
    capabilities: list[Annotated[str, Field(min_length=1, max_length=48)]] = Field(
        default_factory=list, max_length=20)
    units: int = Field(1, ge=0, le=20)


class TriageRequest(_Body):
    actor: str = Field("dispatcher", min_length=1, max_length=120)
    kind: Literal["emergency", "public_service"] | None = None
    priority: int | None = Field(None, ge=1, le=5)
    agencies: list[AgencyRequirementIn] | None = Field(None, max_length=20)
    reason: str = Field("", max_length=1000)

    @property
    def is_override(self) -> bool:
        return self.kind is not None or self.priority is not None or self.agencies is not None


class AssignRequest(_Body):
    incident_id: int = Field(ge=1, le=2**31 - 1)
    unit_id: int = Field(ge=1, le=2**31 - 1)
    actor: str = Field("dispatcher", min_length=1, max_length=120)


class ArriveRequest(Actor):
    at: Timestamp | None = None


class UnitStatusPatch(_Body):
    status: Literal["available", "returning", "out_of_service"]
    actor: str = Field("dispatcher", min_length=1, max_length=120)
    reason: str = Field("", max_length=500)


class IncidentStatusRequest(_Body):
    status: Literal["resolved", "closed", "cancelled", "duplicate"]
    duplicate_of: int | None = Field(None, ge=1, le=2**31 - 1)
    actor: str = Field("dispatcher", min_length=1, max_length=120)
    reason: str = Field("", max_length=1000, description="required to close or cancel")


class AgencyActionRequest(_Body):
    actor: str = Field("dispatcher", min_length=1, max_length=120)
    reference: str | None = Field(None, max_length=120)


_iso = iso_utc

#: A timestamp in a response: always serialized by :func:`dispatch.timestamp.iso_utc` (``...Z``).
TimestampOut = Annotated[datetime, PlainSerializer(iso_utc, return_type=str)]


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
        "drill": bool(i.drill), "exercise_id": i.exercise_id,
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


# --- response models (the OpenAPI types of the serializers above) ------------------------------

class LonLatOut(BaseModel):
    lon: float
    lat: float


class IncidentOut(BaseModel):
    """An incident as :func:`incident_out` serializes it (caller masked by role)."""

    id: int
    kode_kab: str
    received_at: TimestampOut | None
    channel: str
    caller_phone: str | None
    caller_name: str | None
    location: LonLatOut | None
    place_text: str | None
    kode_desa: str | None
    nama_desa: str | None
    kode_kec: str | None
    nama_kec: str | None
    match: str | None
    description: str
    kind: str | None
    category: str
    priority: int | None
    status: str
    duplicate_of: int | None
    probable_duplicate_of: int | None
    triage_overridden: bool
    updated_at: TimestampOut | None
    drill: bool = Field(description="Latihan / drill record (shown with a banner)")
    exercise_id: int | None


class IncidentListOut(BaseModel):
    incidents: list[IncidentOut]


class AgencyOut(BaseModel):
    """An agency (OPD) or external hand-off line, as :func:`agency_out` serializes it."""

    id: int
    kode_kab: str
    code: str
    name: str
    name_en: str | None
    kind: str
    standby_contact: str | None
    handoff_number: str | None


class AgencyListOut(BaseModel):
    agencies: list[AgencyOut]


class UnitPositionOut(BaseModel):
    lon: float
    lat: float
    source: str | None
    fix_time: TimestampOut | None


class UnitOut(BaseModel):
    """A unit as :func:`unit_out` serializes it, with its last known position."""

    id: int
    kode_kab: str
    call_sign: str
    agency: str
    vehicle_type: str
    profile: str
    capabilities: list[str]
    station_id: int | None
    device_id: str | None
    status: str
    status_changed_at: TimestampOut | None
    illustrative: bool
    last_position: UnitPositionOut | None


class UnitListOut(BaseModel):
    units: list[UnitOut]
