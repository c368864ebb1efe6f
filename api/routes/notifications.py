"""Standby-line channels of the agencies (webhook, email, SMS) and what was sent about an
incident: the console shows whether an OPD's standby line was reached."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from api.deps import get_session
from api.routes.incidents import actor_of, scope_of
from dispatch import notification_service as svc
from dispatch.timestamp import iso_utc

router = APIRouter(prefix="/api/v1", tags=["agencies"])


class ChannelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kode_kab: str = Field(pattern=r"^\d{2}\.\d{2}$")
    agency_code: str = Field(min_length=1, max_length=32)
    kind: Literal["webhook", "email", "sms"]
    target: str = Field(min_length=3, max_length=2000,
                        description="webhook URL, email address or phone number (+62...)")
    secret: str | None = Field(None, min_length=16, max_length=200,
                               description="webhook HMAC secret (required for webhooks)")


class ChannelOut(BaseModel):
    id: int
    kode_kab: str
    agency_code: str
    kind: str
    target: str
    active: bool
    signed: bool = Field(description="a webhook secret is set (the secret is never returned)")


class ChannelListOut(BaseModel):
    channels: list[ChannelOut]


class DeliveryOut(BaseModel):
    id: int
    kind: str
    agency: str
    channel: str
    target: str
    status: Literal["pending", "sent", "failed"]
    attempts: int
    last_error: str | None
    created_at: str
    sent_at: str | None


class DeliveryListOut(BaseModel):
    incident_id: int
    reached: dict[str, bool] = Field(description="agency -> at least one message delivered")
    notifications: list[DeliveryOut]


def _channel(c, code: str) -> dict:
    return {"id": c.id, "kode_kab": c.kode_kab, "agency_code": code, "kind": c.kind,
            "target": c.target, "active": c.active, "signed": bool(c.secret)}


@router.get("/agencies/channels", response_model=ChannelListOut)
def channels(request: Request, kode_kab: Annotated[str, Query(pattern=r"^\d{2}\.\d{2}$")],
             session: Session = Depends(get_session)) -> dict:
    """The standby-line channels of every agency of a regency."""
    rows = svc.list_channels(session, scope=scope_of(request), kode_kab=kode_kab)
    return {"channels": [_channel(c, code) for c, code in rows]}


@router.post("/agencies/channels", response_model=ChannelOut, status_code=201)
def add_channel(body: ChannelIn, request: Request,
                session: Session = Depends(get_session)) -> dict:
    """Add a channel to an agency's standby line (admins)."""
    row = svc.add_channel(session, scope=scope_of(request), kode_kab=body.kode_kab,
                          channel=svc.ChannelInput(body.agency_code, body.kind, body.target,
                                                   body.secret),
                          actor=actor_of(request, "api"), now=datetime.now(UTC))
    out = _channel(row, body.agency_code)
    session.commit()  # committed before the response
    return out


@router.get("/incidents/{incident_id}/notifications", response_model=DeliveryListOut)
def incident_notifications(incident_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
                           request: Request, session: Session = Depends(get_session)) -> dict:
    """What was sent to the standby lines about an incident, and whether each agency's line
    was reached."""
    rows = svc.deliveries(session, scope=scope_of(request), incident_id=incident_id)
    reached: dict[str, bool] = {}
    for d in rows:
        reached[d.agency] = reached.get(d.agency, False) or d.status == "sent"
    return {"incident_id": incident_id, "reached": reached, "notifications": [
        {"id": d.id, "kind": d.kind, "agency": d.agency, "channel": d.channel,
         "target": d.target, "status": d.status, "attempts": d.attempts,
         "last_error": d.last_error, "created_at": iso_utc(d.created_at),
         "sent_at": iso_utc(d.sent_at) if d.sent_at else None} for d in rows]}
