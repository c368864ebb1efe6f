"""The registry admin page in the console: posts, units and trackers of the caller's regencies
with upload forms for the CSV/GeoJSON files (server-rendered, Bahasa Indonesia or English)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from api.deps import get_session
from api.routes.registry import post_out, tracker_out, units_out
from api.schemas_registry import KODE_KAB
from dispatch import posts, registry, trackers
from dispatch.scope import Scope
from maps.registry_page import render_registry_page

router = APIRouter(tags=["registry"])


@router.get("/console/registry", response_class=HTMLResponse)
def registry_page(request: Request, session: Session = Depends(get_session),
                  kode_kab: Annotated[str | None, Query(pattern=KODE_KAB)] = None,
                  lang: Annotated[str | None, Query(pattern="^(id|en)$")] = None
                  ) -> HTMLResponse:
    """The registry admin page (lists and upload forms)."""
    p = getattr(request.state, "principal", None)
    scope = p.scope if p is not None else Scope(frozenset())
    html = render_registry_page(
        posts=[post_out(x) for x in posts.list_posts(session, scope=scope, kode_kab=kode_kab)],
        units=units_out(registry.list_registry_units(session, scope=scope, kode_kab=kode_kab)),
        trackers=[tracker_out(t) for t in trackers.list_trackers(session, scope=scope)
                  if kode_kab is None or t.kode_kab in (None, kode_kab)],
        lang=lang or "id", kode_kab=kode_kab)
    return HTMLResponse(html, headers={
        "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                   "frame-ancestors 'none'",
        "X-Content-Type-Options": "nosniff"})
