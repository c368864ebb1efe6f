"""Calls that are not incidents: logged in one keystroke from the console, counted in reports."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from api.deps import get_session
from api.routes.incidents import actor_of, scope_of
from dispatch import schemas
from dispatch.call_log import CALL_KINDS, call_counts, log_call
from dispatch.exceptions import DispatchValidationError
from dispatch.intake import CHANNELS
from dispatch.timestamp import iso_utc

router = APIRouter(prefix="/api/v1", tags=["calls"])


class CallIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kode_kab: str = Field(pattern=r"^\d{2}\.\d{2}$")
    kind: Literal[tuple(CALL_KINDS)]  # type: ignore[valid-type]
    channel: Literal[CHANNELS] = "phone_112"  # type: ignore[valid-type]
    caller_phone: str | None = Field(None, pattern=r"^\+?[0-9 ()-]{3,24}$")
    note: str = Field("", max_length=500)


class CallOut(BaseModel):
    id: int
    kode_kab: str
    kind: str
    channel: str
    received_at: str


class CallCountsOut(BaseModel):
    kode_kab: str
    start: str = Field(alias="from")
    end: str = Field(alias="to")
    total: int
    by_kind: dict[str, int]
    labels: dict[str, list[str]] = Field(description="kind -> [Bahasa Indonesia, English]")


@router.post("/calls", response_model=CallOut, status_code=201)
def create_call(body: CallIn, request: Request, session: Session = Depends(get_session)) -> dict:
    """Log a call that is not an incident (prank, silent, information, wrong number, dropped)."""
    row = log_call(session, scope=scope_of(request), kode_kab=body.kode_kab, kind=body.kind,
                   channel=body.channel, caller_phone=body.caller_phone, note=body.note,
                   actor=actor_of(request, "dispatcher"), now=datetime.now(UTC))
    out = {"id": row.id, "kode_kab": row.kode_kab, "kind": row.kind, "channel": row.channel,
           "received_at": iso_utc(row.received_at)}
    session.commit()  # committed before the response
    return out


@router.get("/calls/counts", response_model=CallCountsOut, response_model_by_alias=True)
def counts(request: Request, kode_kab: Annotated[str, Query(pattern=r"^\d{2}\.\d{2}$")],
           date_from: Annotated[schemas.Timestamp, Query(alias="from")],
           date_to: Annotated[schemas.Timestamp, Query(alias="to")],
           session: Session = Depends(get_session)) -> dict:
    """Non-incident calls per kind over ``[from, to)``."""
    if date_from.tzinfo is None or date_to.tzinfo is None:
        raise DispatchValidationError("from/to must include a timezone (e.g. ...Z).")
    if date_to <= date_from:
        raise DispatchValidationError("'to' must be after 'from'.")
    by_kind = call_counts(session, scope=scope_of(request), kode_kab=kode_kab, start=date_from,
                          end=date_to)
    return {"kode_kab": kode_kab, "from": iso_utc(date_from), "to": iso_utc(date_to),
            "total": sum(by_kind.values()), "by_kind": by_kind,
            "labels": {k: list(v) for k, v in CALL_KINDS.items()}}
