"""The Perbup SLA rules of a regency: read the version in force, list versions, export YAML,
and (admins) store a new version validated whole."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import yaml
from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from api.deps import get_session, get_state
from api.errors import ErrorResponse
from api.routes.incidents import actor_of, dispatch_config, scope_of
from api.schemas_geo import IsoTime
from api.state import AppState
from dispatch import sla_rules_service as rules
from dispatch.perbup import RuleSet

router = APIRouter(prefix="/api/v1", tags=["rules"])
KodeKab = Annotated[str, Path(pattern=r"^\d{2}\.\d{2}$", description="kabupaten/kota code")]


ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "Tidak ditemukan / not found"},
    422: {"model": ErrorResponse, "description": "Aturan tidak sah / invalid rules"},
}
Minutes = Annotated[float, Field(gt=0, le=525_600, description="minutes")]


class RuleDefaultIn(BaseModel):
    """The rule of everything no other rule names."""

    model_config = ConfigDict(extra="forbid")
    limit_min: Minutes
    start: Literal["received", "notified"] = "notified"
    judge: Literal["each", "mean", "p90"] = "each"
    ack_min: Minutes | None = None
    label: str = Field("", max_length=500)


class RuleIn(RuleDefaultIn):
    """One rule: an agency (or every agency) × categories or a kind (or everything)."""

    agency: str | None = Field(None, max_length=32, description="OPD code; none = every OPD")
    categories: list[Annotated[str, Field(max_length=48)]] | None = Field(
        None, min_length=1, max_length=64)
    kind: Literal["emergency", "public_service"] | None = None


class RuleSetIn(BaseModel):
    """A new version of the regency's rules, in force from ``effective_from``."""

    model_config = ConfigDict(extra="forbid")
    effective_from: AwareDatetime
    reference: str = Field("", max_length=500, description="the Perbup it implements")
    default: RuleDefaultIn
    rules: list[RuleIn] = Field(default=[], max_length=500)


class RuleOut(BaseModel):
    agency: str | None = None
    categories: list[str] | None = None
    kind: str | None = None
    start: str
    limit_min: float
    judge: str
    ack_min: float | None = None
    label: str | None = None


class RuleSetOut(BaseModel):
    """One stored version of the regency's rules."""

    kode_kab: str
    version: int | None
    effective_from: IsoTime
    reference: str
    default: RuleOut
    rules: list[RuleOut]


class RuleVersionMeta(BaseModel):
    version: int
    effective_from: IsoTime | None
    reference: str
    created_by: str | None
    created_at: IsoTime | None
    rules: int


class RuleVersionsOut(BaseModel):
    kode_kab: str
    versions: list[RuleVersionMeta]


def rule_set_out(rs: RuleSet) -> dict[str, Any]:
    doc = rs.as_document()
    return {"kode_kab": rs.kode_kab, "version": rs.version,
            "effective_from": doc["effective_from"], "reference": rs.reference,
            "default": doc["default"], "rules": doc["rules"]}


@router.get("/rules/{kode_kab}", response_model=RuleSetOut, responses=ERRORS)
def rules_in_force(request: Request, kode_kab: KodeKab,
                   at: Annotated[AwareDatetime | None, Query(
                       description="the moment to look at (default: now)")] = None,
                   session: Session = Depends(get_session)) -> dict[str, Any]:
    """The regency's Perbup SLA rules in force now (or at ``at``)."""
    return rule_set_out(rules.rule_set_in_force(session, scope_of(request), kode_kab, at))


@router.get("/rules/{kode_kab}/versions", response_model=RuleVersionsOut, responses=ERRORS)
def rule_versions(request: Request, kode_kab: KodeKab,
                  session: Session = Depends(get_session)) -> dict[str, Any]:
    """Every stored version of the regency's rules, newest first."""
    found = rules.versions(session, scope_of(request), kode_kab)
    if not found:
        raise rules.RuleSetNotFound(f"Aturan SLA untuk wilayah {kode_kab} tidak ditemukan / no "
                                    f"SLA rules for region {kode_kab}.")
    return {"kode_kab": kode_kab, "versions": found}


@router.get("/rules/{kode_kab}/export.yaml", response_class=PlainTextResponse,
            responses={200: {"content": {"application/yaml": {"schema": {"type": "object"}}}}}
            | ERRORS)
def export_rules(request: Request, kode_kab: KodeKab,
                 at: Annotated[AwareDatetime | None, Query()] = None,
                 session: Session = Depends(get_session)) -> PlainTextResponse:
    """The rules in force as a YAML document (what ``siaga rules import`` reads)."""
    rs = rules.rule_set_in_force(session, scope_of(request), kode_kab, at)
    text = yaml.safe_dump(rs.as_document(), allow_unicode=True, sort_keys=False)
    return PlainTextResponse(text, media_type="application/yaml")


@router.put("/rules/{kode_kab}", response_model=RuleSetOut, responses=ERRORS)
def put_rules(request: Request, kode_kab: KodeKab,
              body: Annotated[RuleSetIn, Body()],
              state: AppState = Depends(get_state),
              session: Session = Depends(get_session)) -> dict[str, Any]:
    """Store a new version of the regency's rules (validated whole; nothing half-stored)."""
    doc = body.model_dump(mode="python", exclude_none=True)
    doc["kode_kab"] = kode_kab
    stored = rules.import_document(session, scope_of(request), doc,
                                   config=dispatch_config(state), kode_kab=kode_kab,
                                   actor=actor_of(request, "api"))
    session.commit()  # the new version is committed before the answer
    return rule_set_out(stored)
