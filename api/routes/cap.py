"""CAP 1.2 over HTTP: public warnings written as CAP XML, and alerts (such as BMKG's) imported as
planner notices of a regency."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from shapely.geometry import mapping
from sqlalchemy.orm import Session

from api.deps import get_session
from api.errors import ErrorResponse
from api.report_scope import caller_scope
from dispatch import cap_service as svc
from dispatch.exceptions import DispatchValidationError
from dispatch.incident_records import utcnow
from dispatch.notice_models import CapNotice
from dispatch.reporting import cap
from dispatch.timestamp import iso_utc
from maps.timezone import zone_for_code

router = APIRouter(prefix="/api/v1/cap", tags=["cap"])

CAP_MEDIA = "application/cap+xml"
KODE = Annotated[str, Field(pattern=r"^\d{2}\.\d{2}$")]
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "Region, kecamatan or incident not found."},
    422: {"model": ErrorResponse, "description": "Invalid request or CAP message."},
}


class WarningTextIn(BaseModel):
    """The warning's words in one language."""

    model_config = ConfigDict(extra="forbid")

    language: Literal["id-ID", "en-US"]
    event: str = Field(min_length=1, max_length=200)
    headline: str | None = Field(None, max_length=160)
    description: str | None = Field(None, max_length=4000)
    instruction: str | None = Field(None, max_length=2000)


class WarningIn(BaseModel):
    """A public warning: texts (Bahasa Indonesia first), CAP value lists, and where."""

    model_config = ConfigDict(extra="forbid")

    kode_kab: KODE
    texts: list[WarningTextIn] = Field(min_length=1, max_length=2)
    categories: list[Literal[cap.CATEGORY]] = Field(  # type: ignore[valid-type]
        min_length=1, max_length=12)
    urgency: Literal[cap.URGENCY] = "Immediate"  # type: ignore[valid-type]
    severity: Literal[cap.SEVERITY] = "Severe"  # type: ignore[valid-type]
    certainty: Literal[cap.CERTAINTY] = "Observed"  # type: ignore[valid-type]
    response_types: list[Literal[cap.RESPONSE_TYPE]] = Field(  # type: ignore[valid-type]
        default_factory=list, max_length=9)
    status: Literal["Actual", "Exercise", "Test"] = "Actual"
    expires_in_min: float = Field(180, gt=0, le=7 * 24 * 60)
    kecamatan: list[Annotated[str, Field(pattern=r"^\d{2}\.\d{2}\.\d{2}$")]] = Field(
        default_factory=list, max_length=100)
    incident_id: int | None = Field(None, ge=1, le=2**31 - 1)
    radius_km: float = Field(1.0, ge=0, le=500)


@router.post("/warnings", response_class=Response, responses={
    200: {"description": "The warning as CAP 1.2 XML.",
          "content": {CAP_MEDIA: {"schema": {"type": "string"}}}}, **ERRORS})
def warning(body: WarningIn, request: Request,
            session: Session = Depends(get_session)) -> Response:
    """A public warning as CAP 1.2 XML (one info per language, kecamatan polygons or a circle)."""
    sent = utcnow().astimezone(ZoneInfo(zone_for_code(body.kode_kab).iana))
    xml = svc.public_warning(
        session, scope=caller_scope(request), kode_kab=body.kode_kab,
        texts=[svc.WarningText(**t.model_dump()) for t in body.texts],
        categories=body.categories, urgency=body.urgency, severity=body.severity,
        certainty=body.certainty, response_types=body.response_types, sent=sent,
        expires_in_min=body.expires_in_min, kecamatan=body.kecamatan,
        incident_id=body.incident_id, radius_km=body.radius_km, status=body.status)
    name = f"peringatan-{body.kode_kab}-{sent.strftime('%Y%m%dT%H%M%S')}.xml"
    return Response(content=xml, media_type=CAP_MEDIA,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


class NoticeIn(BaseModel):
    """One CAP 1.2 alert (XML text) to keep as a notice of a regency."""

    model_config = ConfigDict(extra="forbid")

    kode_kab: KODE
    xml: str = Field(min_length=1, max_length=cap.MAX_BYTES)


class NoticeOut(BaseModel):
    id: int
    kode_kab: str
    identifier: str
    sender: str
    sent: str = Field(json_schema_extra={"format": "date-time"})
    status: str
    msg_type: str
    language: str
    event: str
    category: list[str]
    urgency: str
    severity: str
    certainty: str
    headline: str | None
    description: str | None
    instruction: str | None
    expires: str | None = Field(json_schema_extra={"format": "date-time"})
    area_desc: str
    geometry: dict[str, Any] | None


class NoticeImportOut(BaseModel):
    created: bool
    notice: NoticeOut


class NoticeListOut(BaseModel):
    notices: list[NoticeOut]


def _out(n: CapNotice) -> dict[str, Any]:
    geom = svc.notice_geometry(n)
    return {"id": n.id, "kode_kab": n.kode_kab, "identifier": n.identifier, "sender": n.sender,
            "sent": iso_utc(n.sent), "status": n.status, "msg_type": n.msg_type,
            "language": n.language, "event": n.event, "category": list(n.category or []),
            "urgency": n.urgency, "severity": n.severity, "certainty": n.certainty,
            "headline": n.headline, "description": n.description, "instruction": n.instruction,
            "expires": None if n.expires is None else iso_utc(n.expires),
            "area_desc": n.area_desc, "geometry": None if geom is None else mapping(geom)}


@router.post("/notices", response_model=NoticeImportOut, responses=ERRORS)
def import_notice(body: NoticeIn, request: Request,
                  session: Session = Depends(get_session)) -> dict:
    """Import one CAP 1.2 alert (validated whole) as a planner notice; re-import replaces it."""
    principal = getattr(request.state, "principal", None)
    res = svc.import_notice(session, scope=caller_scope(request), kode_kab=body.kode_kab,
                            xml=body.xml.encode("utf-8"), now=utcnow(),
                            actor=getattr(principal, "actor", "api"))
    return {"created": res.created, "notice": _out(res.notice)}


@router.get("/notices", response_model=NoticeListOut, responses=ERRORS)
def notices(request: Request, kode_kab: Annotated[str, Query(pattern=r"^\d{2}\.\d{2}$")],
            active_at: Annotated[datetime | None, Query()] = None,
            session: Session = Depends(get_session)) -> dict:
    """Imported CAP notices of a regency, newest first (optionally only those still active)."""
    if active_at is not None and active_at.tzinfo is None:
        raise DispatchValidationError("active_at perlu zona waktu (mis. ...Z) / active_at "
                                      "needs a timezone (e.g. ...Z)")
    rows = svc.list_notices(session, scope=caller_scope(request), kode_kab=kode_kab,
                            active_at=active_at)
    return {"notices": [_out(n) for n in rows]}
