"""Who may call what: one table of (method, path template) → roles, enforced by one dependency.

:func:`enforce` is installed once on the whole application (``api/app.py``), so routers need no
edits: every HTTP route and WebSocket is checked against :data:`RULES`. A route without a rule is
refused (fail closed) and the permission test fails until a rule is added. Static files, ``/docs``
and ``/openapi.json`` are not API routes and stay public.

Status codes: no or invalid credentials → 401; valid credentials but a role the rule does not
allow → 403. WebSockets are closed with code 1008 (policy violation) instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import urlparse

import anyio
from fastapi import HTTPException, WebSocketException
from starlette.requests import HTTPConnection

from api.auth import service as auth_service
from api.auth.exceptions import InvalidTokenError
from api.security import ALL_ROLES, Principal, Role, token_digest, token_from_connection
from api.state import AppState

#: Marker for routes anyone may call without logging in.
PUBLIC: frozenset[Role] = frozenset()

D, A, P, V, ADM = Role.DISPATCHER, Role.AGENCY, Role.PLANNER, Role.VIEWER, Role.ADMIN
ANY = ALL_ROLES
#: Operations on incidents and units: dispatchers (and admins).
OPS = frozenset({D, ADM})
#: Agency desks act on their own assignments (ownership is checked by the handler).
FIELD = frozenset({D, A, ADM})
#: Reading operational data (incidents, tracks): everyone except the Bupati's viewers.
READ_OPS = frozenset({D, A, P, ADM})
#: Maps and reports (the Bupati's office included).
REPORTS = frozenset({D, P, V, ADM})
ADMIN_ONLY = frozenset({ADM})

#: (method, path template) → allowed roles; ``WS`` is the method of WebSocket routes.
RULES: Mapping[tuple[str, str], frozenset[Role]] = {
    # meta
    ("GET", "/api/v1/health"): PUBLIC,
    ("GET", "/api/v1/attribution"): PUBLIC,
    # regions and geocoding (geo)
    ("GET", "/api/v1/geocode/reverse"): ANY,
    ("GET", "/api/v1/geocode/search"): ANY,
    ("GET", "/api/v1/regions"): ANY,
    ("GET", "/api/v1/regions/{kode_kab}/desa.geojson"): ANY,
    ("GET", "/api/v1/regions/{kode_kab}/kecamatan.geojson"): ANY,
    # routing (geo)
    ("POST", "/api/v1/routing/table"): READ_OPS,
    ("GET", "/api/v1/routing/route"): READ_OPS,
    ("GET", "/api/v1/routing/profiles"): ANY,
    ("GET", "/api/v1/routing/networks"): ANY,
    # auth and users
    ("POST", "/api/v1/auth/login"): PUBLIC,
    ("POST", "/api/v1/auth/logout"): ANY,
    ("GET", "/api/v1/auth/me"): ANY,
    ("GET", "/api/v1/auth/users"): ADMIN_ONLY,
    ("POST", "/api/v1/auth/users"): ADMIN_ONLY,
    ("GET", "/api/v1/auth/tokens"): ADMIN_ONLY,
    ("POST", "/api/v1/auth/tokens"): ADMIN_ONLY,
    ("DELETE", "/api/v1/auth/tokens/{token_id}"): ADMIN_ONLY,
    # incidents (dispatch)
    ("POST", "/api/v1/incidents"): OPS,
    ("GET", "/api/v1/incidents"): READ_OPS,
    ("GET", "/api/v1/incidents/{incident_id}"): READ_OPS,
    ("POST", "/api/v1/incidents/{incident_id}/triage"): OPS,
    ("GET", "/api/v1/incidents/{incident_id}/recommendations"): OPS,
    ("POST", "/api/v1/incidents/{incident_id}/status"): OPS,
    ("POST", "/api/v1/incidents/{incident_id}/agencies/{agency_code}/acknowledge"): FIELD,
    ("POST", "/api/v1/incidents/{incident_id}/agencies/{agency_code}/handoff"): FIELD,
    # incident panel: edits, notes, timeline, SOP checklist, the printable sheet
    ("PATCH", "/api/v1/incidents/{incident_id}"): OPS,
    ("POST", "/api/v1/incidents/{incident_id}/notes"): FIELD,
    ("GET", "/api/v1/incidents/{incident_id}/timeline"): READ_OPS,
    ("GET", "/api/v1/incidents/{incident_id}/sop"): READ_OPS,
    ("POST", "/api/v1/incidents/{incident_id}/sop/{agency_code}/{step_no}"): FIELD,
    ("DELETE", "/api/v1/incidents/{incident_id}/sop/{agency_code}/{step_no}"): FIELD,
    ("GET", "/console/incidents/{incident_id}/sheet"): READ_OPS,
    ("GET", "/api/v1/sop/{kode_kab}"): ADMIN_ONLY,
    ("PUT", "/api/v1/sop/{kode_kab}"): ADMIN_ONLY,
    # call taking: probable duplicates, further calls on an incident, the queue
    ("GET", "/api/v1/incidents/duplicates"): OPS,
    ("POST", "/api/v1/incidents/{incident_id}/calls"): OPS,
    ("GET", "/api/v1/incidents/{incident_id}/calls"): READ_OPS,
    ("GET", "/api/v1/incidents/queue"): READ_OPS,
    # drills (latihan): exercises by dispatchers, the purge by admins only
    ("POST", "/api/v1/exercises"): OPS,
    ("GET", "/api/v1/exercises"): READ_OPS,
    ("POST", "/api/v1/exercises/{exercise_id}/end"): OPS,
    ("POST", "/api/v1/drills/purge"): ADMIN_ONLY,
    # units and assignments
    ("GET", "/api/v1/units"): ANY,
    ("PATCH", "/api/v1/units/{unit_id}"): OPS,
    ("POST", "/api/v1/assignments"): OPS,
    ("POST", "/api/v1/assignments/{assignment_id}/acknowledge"): FIELD,
    ("POST", "/api/v1/assignments/{assignment_id}/depart"): FIELD,
    ("POST", "/api/v1/assignments/{assignment_id}/arrive"): FIELD,
    ("POST", "/api/v1/assignments/{assignment_id}/clear"): FIELD,
    ("GET", "/api/v1/assignments/{assignment_id}/evidence"): READ_OPS,
    # tracking (positions, devices, rejected inputs)
    ("GET", "/api/v1/tracking/latest"): ANY,
    ("GET", "/api/v1/tracking/devices"): READ_OPS,
    ("GET", "/api/v1/tracking/devices/{device_id}/track"): READ_OPS,
    ("GET", "/api/v1/tracking/rejects"): ADMIN_ONLY,
    # agencies and reports
    ("GET", "/api/v1/agencies"): ANY,
    ("POST", "/api/v1/calls"): OPS,
    ("GET", "/api/v1/calls/counts"): REPORTS,
    ("GET", "/api/v1/agencies/channels"): ADMIN_ONLY,
    ("POST", "/api/v1/agencies/channels"): ADMIN_ONLY,
    ("GET", "/api/v1/incidents/{incident_id}/notifications"): FIELD,
    ("GET", "/api/v1/reports/sla"): ANY,
    # monthly report files (the Bupati's office included)
    ("GET", "/api/v1/reports/monthly"): REPORTS,
    # CAP 1.2: public warnings (operations), imported alerts as planner notices
    ("POST", "/api/v1/cap/warnings"): OPS,
    ("POST", "/api/v1/cap/notices"): frozenset({P, ADM}),
    ("GET", "/api/v1/cap/notices"): REPORTS,
    ("POST", "/api/v1/escalations/check"): OPS,
    # the Perbup SLA rules (read by everyone, versions stored by admins)
    ("GET", "/api/v1/rules/{kode_kab}"): ANY,
    ("GET", "/api/v1/rules/{kode_kab}/versions"): ANY,
    ("GET", "/api/v1/rules/{kode_kab}/export.yaml"): ANY,
    ("PUT", "/api/v1/rules/{kode_kab}"): ADMIN_ONLY,
    ("GET", "/console/rules"): ADMIN_ONLY,
    # complaints forwarded to an OPD (an agency desk sees and moves its own tickets only)
    ("GET", "/api/v1/complaints/tickets"): READ_OPS,
    ("GET", "/api/v1/complaints/tickets/{ticket_no}"): READ_OPS,
    ("POST", "/api/v1/complaints/tickets/{ticket_no}/status"): FIELD,
    ("GET", "/api/v1/complaints/overdue"): ANY,
    ("GET", "/api/v1/incidents/{incident_id}/segments"): READ_OPS,
    # planner analytics
    ("GET", "/api/v1/analytics/hotspots/desa"): REPORTS,
    ("GET", "/api/v1/analytics/hotspots/grid"): REPORTS,
    ("GET", "/api/v1/analytics/time"): REPORTS,
    ("GET", "/api/v1/analytics/emerging"): REPORTS,
    ("POST", "/api/v1/analytics/siting"): frozenset({P, ADM}),
    # coverage from the posts (the Bupati's office) and the population it weighs desa with
    ("GET", "/api/v1/analytics/coverage"): REPORTS,
    ("GET", "/api/v1/analytics/hotspots/desa.csv"): REPORTS,
    ("GET", "/api/v1/analytics/hotspots/desa.geojson"): REPORTS,
    ("GET", "/api/v1/analytics/coverage.csv"): REPORTS,
    ("GET", "/api/v1/analytics/coverage.geojson"): REPORTS,
    ("POST", "/api/v1/analytics/coverage/what-if"): frozenset({P, ADM}),
    ("POST", "/api/v1/regions/{kode_kab}/population"): ADMIN_ONLY,
    ("GET", "/maps/dashboard"): REPORTS,
    ("GET", "/maps/hotspots/gi"): REPORTS,
    # console and maps
    ("GET", "/"): PUBLIC,
    ("GET", "/console"): PUBLIC,
    ("GET", "/static/{path:path}"): PUBLIC,
    ("GET", "/maps/roads/{kode_kab}.geojson"): ANY,
    ("GET", "/maps/coverage"): REPORTS,
    ("GET", "/maps/hotspot"): REPORTS,
    ("WS", "/api/v1/live"): ANY,
    # registry: posts, units and trackers (imports and logins: admin)
    ("GET", "/api/v1/registry/posts"): READ_OPS,
    ("GET", "/api/v1/registry/posts/export"): READ_OPS,
    ("GET", "/api/v1/registry/posts/{post_id}"): READ_OPS,
    ("POST", "/api/v1/registry/posts/import"): ADMIN_ONLY,
    ("GET", "/api/v1/registry/units"): READ_OPS,
    ("GET", "/api/v1/registry/units/export"): READ_OPS,
    ("POST", "/api/v1/registry/units/import"): ADMIN_ONLY,
    ("GET", "/api/v1/registry/trackers"): READ_OPS,
    ("POST", "/api/v1/registry/trackers"): ADMIN_ONLY,
    ("POST", "/api/v1/registry/trackers/{device_id}/credentials"): ADMIN_ONLY,
    ("DELETE", "/api/v1/registry/trackers/{device_id}"): ADMIN_ONLY,
    ("GET", "/console/registry"): ADMIN_ONLY,
    # shift handover (an agency desk: its own part)
    ("GET", "/api/v1/handover"): READ_OPS,
    ("GET", "/console/handover"): READ_OPS,
}


def rule_for(method: str, path: str | None) -> frozenset[Role] | None:
    """Allowed roles for a route, :data:`PUBLIC` for public ones, ``None`` when unlisted."""
    if path is None:
        return None
    if method == "HEAD":
        method = "GET"
    return RULES.get((method, path))


def _deny(conn: HTTPConnection, status: int, message: str) -> Exception:
    if conn.scope.get("type") == "websocket":
        return WebSocketException(code=1008, reason=message)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return HTTPException(status, message, headers=headers)


def _cross_origin(conn: HTTPConnection) -> bool:
    """A browser WebSocket opened from another site (cookies would ride along)."""
    origin = conn.headers.get("origin")
    if not origin:
        return False
    return urlparse(origin).netloc.lower() != conn.headers.get("host", "").lower()


def _resolve_now(state: AppState, token: str, digest: str) -> Principal | None:
    """Look the token up in its own short transaction (connection back in the pool at once)
    and cache what was read, unless tokens or users changed meanwhile."""
    cache = state.principal_cache
    generation = cache.generation
    with state.sessionmaker() as session:
        try:
            principal = auth_service.resolve_token(session=session, token=token)
        except InvalidTokenError:
            return None
    cache.put(digest, principal, expires_at=principal.expires_at, generation=generation)
    return principal


async def _resolve(conn: HTTPConnection) -> Principal | None:
    token = token_from_connection(conn)
    if not token:
        return None
    state: AppState = conn.app.state.siaga
    digest = token_digest(token)
    # The cache is cleared by every change of a token or a user (a PostgreSQL NOTIFY, and at
    # once by a commit of this process) and is off while that cannot be guaranteed, so a
    # revoked token is refused from the moment the revocation is committed
    # (api/principal_cache.py). A hit costs neither a thread nor a connection.
    listener = state.running.auth_listener
    if listener is not None and listener.has_pending():
        state.principal_cache.clear()  # a change may be on its way: read the database
    cached = state.principal_cache.get(digest, datetime.now(UTC))
    if cached is not None:
        return cached
    # The lookup runs on a worker thread and its connection is returned before the handler
    # starts, so no request holds one connection while waiting for another.
    return await anyio.to_thread.run_sync(_resolve_now, state, token, digest)


async def enforce(conn: HTTPConnection) -> None:
    """Global dependency: authenticate the caller and check :data:`RULES` for the route.

    Asynchronous, so public routes (``/api/v1/health``) never wait for a worker thread; a token
    is only looked up for routes that need a login.
    """
    route = conn.scope.get("route")
    method = "WS" if conn.scope.get("type") == "websocket" else conn.scope.get("method", "GET")
    allowed = rule_for(method, getattr(route, "path", None))
    if conn.scope.get("type") == "websocket" and _cross_origin(conn):
        raise _deny(conn, 403, "Origin tidak diizinkan / cross-origin WebSocket refused")
    if allowed is not None and not allowed:  # PUBLIC
        conn.state.principal = None
        return
    principal = await _resolve(conn)
    conn.state.principal = principal
    if principal is None:
        raise _deny(conn, 401, "Perlu login / authentication required")
    if allowed is None or principal.role not in allowed:
        raise _deny(conn, 403, "Akses ditolak untuk peran ini / forbidden for this role")
    own = conn.path_params.get("agency_code")
    if principal.role is Role.AGENCY and own is not None and own != principal.agency_code:
        raise _deny(conn, 403, "Hanya untuk instansi sendiri / only your own agency")
