"""The Perbup SLA rules page of the console (server-rendered, Bahasa Indonesia or English)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from api.deps import get_session
from api.routes.incidents import scope_of
from api.routes.rules import ERRORS, rule_set_out
from dispatch import sla_rules_service as rules
from maps.rules_page import render_rules_page

router = APIRouter(tags=["rules"])


@router.get("/console/rules", response_class=HTMLResponse, responses=ERRORS)
def rules_page(request: Request,
               kode_kab: Annotated[str, Query(pattern=r"^\d{2}\.\d{2}$")],
               lang: Annotated[str | None, Query(pattern="^(id|en)$")] = None,
               session: Session = Depends(get_session)) -> HTMLResponse:
    """The rules in force, their versions and the editor of a new version."""
    scope = scope_of(request)
    versions = rules.versions(session, scope, kode_kab)  # another regency: 404
    try:
        current = rule_set_out(rules.rule_set_in_force(session, scope, kode_kab))
    except rules.RuleSetNotFound:
        current = None
    html = render_rules_page(kode_kab=kode_kab, rule_set=current, versions=versions,
                             lang=lang or "id")
    return HTMLResponse(html, headers={
        "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                   "frame-ancestors 'none'",
        "X-Content-Type-Options": "nosniff"})
