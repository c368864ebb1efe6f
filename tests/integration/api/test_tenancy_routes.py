"""Tenancy, generated from the route table: users of one regency can neither see nor change
another regency's data, on every HTTP route and on the live WebSocket.

Every route of the app must be classified below: tenant-neutral (with the reason), or probed.
A probe calls the route as each role of one regency (dispatcher, agency desk, planner, viewer,
regency admin) with the other regency's ids and codes, in both directions (Kota Yogyakarta ↔
Kabupaten Bangli). Each answer must be the expected refusal (404 for another tenant's row, 403
where the role is refused anyway, 422 for a write into another regency), a listing must not
contain a single text of the other regency's rows, and the other regency's rows must be the same
after the calls. A new route that is in neither table fails ``test_every_route_is_classified``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts

from api.permissions import rule_for
from api.security import Role
from dispatch.call_log import CALL_KINDS
from tests.integration.api import tenancy_world as world
from tests.integration.api.tenancy_world import CENTRE, DESK_AGENCY, ROLES, A, B, Side

_BOUNDARIES = "public Kemendagri/BIG boundaries: the same reference data for every regency"
_ROADS = "road arithmetic on coordinates the caller sends (OSM roads), no stored tenant rows"
#: Routes without tenant data, and why they may answer every regency alike.
NEUTRAL: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/health"): "service health only",
    ("GET", "/api/v1/attribution"): "data licences only",
    ("GET", "/api/v1/geocode/reverse"): _BOUNDARIES,
    ("GET", "/api/v1/geocode/search"): _BOUNDARIES,
    ("GET", "/api/v1/regions"): _BOUNDARIES,
    ("GET", "/api/v1/regions/{kode_kab}/desa.geojson"): _BOUNDARIES,
    ("GET", "/api/v1/regions/{kode_kab}/kecamatan.geojson"): _BOUNDARIES,
    ("POST", "/api/v1/routing/table"): _ROADS,
    ("GET", "/api/v1/routing/route"): _ROADS,
    ("GET", "/api/v1/routing/profiles"): "vehicle profiles (configuration)",
    ("GET", "/api/v1/routing/networks"): "which road networks are built (configuration)",
    ("POST", "/api/v1/auth/login"): "public; answers only about the credentials sent",
    ("POST", "/api/v1/auth/logout"): "revokes the caller's own token only",
    ("GET", "/"): "redirect to the console",
    ("GET", "/console"): "page shell; its data come from the scoped API and WebSocket",
    ("GET", "/static/{path:path}"): "static assets",
}
#: WebSocket routes and the test that probes each.
WEBSOCKETS = {"/api/v1/live": "test_live_stream_carries_only_own_regency"}

NOT_FOUND, LISTED, REFUSED = frozenset({404}), frozenset({200}), frozenset({422})
#: A kind of non-incident call (prank, wrong number...), from the call log.
CALL_KIND = next(iter(CALL_KINDS))
PERIOD = {"from": "2020-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}


@dataclass(frozen=True)
class Call:
    """One request: path ids from ``other`` (or ``me`` when ``own_path``), what must come back."""

    expect: frozenset[int]
    params: dict[str, Any] | None = None
    json: Any = None
    own_path: bool = False
    csv: str | None = None
    #: The answer repeats the requested regency code (a page's filter field): not a leak.
    echoes_code: bool = False


def probes(me: Side, other: Side) -> dict[tuple[str, str], list[Call]]:
    """The calls of every probed route, made by ``me``'s users with ``other``'s ids."""
    o, far = other, CENTRE[other.kode_kab]
    inc, asg = "/api/v1/incidents/{incident_id}", "/api/v1/assignments/{assignment_id}"
    step = [Call(NOT_FOUND, json={})]
    per_region = [Call(NOT_FOUND, params={"kode_kab": o.kode_kab})]
    listed = [Call(LISTED), Call(LISTED, params={"kode_kab": o.kode_kab})]
    return {
        ("POST", "/api/v1/incidents"): [
            Call(REFUSED, json={"category": "fire", "lon": far.lon, "lat": far.lat}),
            Call(REFUSED, json={"category": "fire", "lon": far.lon, "lat": far.lat,
                                "kode_kab": o.kode_kab})],
        ("GET", "/api/v1/incidents"): listed,
        ("GET", inc): [Call(NOT_FOUND)],
        ("POST", f"{inc}/triage"): step,
        ("GET", f"{inc}/recommendations"): [Call(NOT_FOUND)],
        ("GET", f"{inc}/segments"): [Call(NOT_FOUND)],
        ("POST", f"{inc}/status"): [
            Call(NOT_FOUND, json={"status": "cancelled"}),
            Call(NOT_FOUND, json={"status": "duplicate", "duplicate_of": o.incident_id},
                 own_path=True)],
        ("POST", f"{inc}/agencies/{{agency_code}}/acknowledge"): step,
        ("POST", f"{inc}/agencies/{{agency_code}}/handoff"): [
            Call(NOT_FOUND, json={"reference": "LP/1/2026"})],
        ("PATCH", inc): [Call(NOT_FOUND, json={"description": "curian"}),
                         Call(NOT_FOUND, json={"lon": far.lon, "lat": far.lat})],
        ("POST", f"{inc}/notes"): [Call(NOT_FOUND, json={"text": "catatan curian"})],
        ("GET", f"{inc}/timeline"): [Call(NOT_FOUND)],
        ("GET", f"{inc}/sop"): [Call(NOT_FOUND)],
        ("POST", f"{inc}/sop/{{agency_code}}/{{step_no}}"): step,
        ("DELETE", f"{inc}/sop/{{agency_code}}/{{step_no}}"): [Call(NOT_FOUND)],
        ("GET", "/console/incidents/{incident_id}/sheet"): [Call(NOT_FOUND)],
        ("GET", "/api/v1/sop/{kode_kab}"): [Call(NOT_FOUND),
                                            Call(NOT_FOUND, params={"format": "yaml"})],
        ("PUT", "/api/v1/sop/{kode_kab}"): [Call(NOT_FOUND, json={"sops": [
            {"category": "fire", "agency": DESK_AGENCY, "steps": ["curian"]}]})],
        ("GET", "/api/v1/incidents/duplicates"): [Call(NOT_FOUND, params={
            "kode_kab": o.kode_kab, "lat": far.lat, "lon": far.lon, "category": "fire"})],
        ("GET", "/api/v1/incidents/queue"): [
            Call(NOT_FOUND, params={"kode_kab": o.kode_kab}),
            Call(LISTED, params={"kode_kab": me.kode_kab})],
        ("POST", f"{inc}/calls"): [Call(NOT_FOUND, json={"note": "panggilan curian"})],
        ("GET", f"{inc}/calls"): [Call(NOT_FOUND)],
        ("POST", "/api/v1/exercises"): [
            Call(NOT_FOUND, json={"kode_kab": o.kode_kab, "name": "Latihan"})],
        ("GET", "/api/v1/exercises"): listed,
        ("POST", "/api/v1/exercises/{exercise_id}/end"): step,
        ("POST", "/api/v1/drills/purge"): [Call(NOT_FOUND, json={"kode_kab": o.kode_kab})],
        ("GET", "/api/v1/units"): listed,
        ("PATCH", "/api/v1/units/{unit_id}"): [
            Call(NOT_FOUND, json={"status": "out_of_service"})],
        ("POST", "/api/v1/assignments"): [
            Call(NOT_FOUND, json={"incident_id": o.incident_id, "unit_id": o.other_unit_id}),
            Call(NOT_FOUND, json={"incident_id": me.incident_id, "unit_id": o.other_unit_id}),
            Call(NOT_FOUND, json={"incident_id": o.incident_id, "unit_id": me.other_unit_id})],
        ("POST", f"{asg}/acknowledge"): step,
        ("POST", f"{asg}/depart"): step,
        ("POST", f"{asg}/arrive"): step,
        ("POST", f"{asg}/clear"): step,
        ("GET", f"{asg}/evidence"): [Call(NOT_FOUND)],
        ("GET", "/api/v1/agencies"): listed,
        ("GET", "/api/v1/reports/sla"): [
            Call(NOT_FOUND, params={"kode_kab": o.kode_kab, **PERIOD})],
        ("POST", "/api/v1/escalations/check"): listed,
        ("GET", "/api/v1/tracking/latest"): [
            Call(LISTED), Call(LISTED, params={"device_id": o.device_id})],
        ("GET", "/api/v1/tracking/devices"): listed,
        ("GET", "/api/v1/tracking/devices/{device_id}/track"): [Call(NOT_FOUND)],
        ("GET", "/api/v1/tracking/rejects"): [
            Call(LISTED), Call(LISTED, params={"device_id": o.device_id})],
        ("GET", "/api/v1/auth/me"): [Call(LISTED)],
        ("GET", "/api/v1/auth/users"): [Call(LISTED)],
        ("POST", "/api/v1/auth/users"): [Call(REFUSED, json={
            "username": f"{me.mark}-baru".lower(), "password": world.PASSWORD,
            "role": "dispatcher", "kode_kabs": [o.kode_kab]})],
        ("GET", "/api/v1/auth/tokens"): [
            Call(LISTED), Call(LISTED, params={"username": o.usernames["dispatcher"]})],
        ("POST", "/api/v1/auth/tokens"): [
            Call(NOT_FOUND, json={"username": o.usernames["dispatcher"], "name": "curi"})],
        ("DELETE", "/api/v1/auth/tokens/{token_id}"): [Call(NOT_FOUND)],
        ("GET", "/maps/roads/{kode_kab}.geojson"): [Call(NOT_FOUND)],
        ("GET", "/maps/coverage"): per_region,
        ("GET", "/maps/hotspot"): per_region,
        ("GET", "/api/v1/analytics/hotspots/desa"): per_region,
        ("GET", "/api/v1/analytics/hotspots/grid"): per_region,
        ("GET", "/api/v1/analytics/time"): per_region,
        ("GET", "/api/v1/analytics/emerging"): per_region,
        ("POST", "/api/v1/analytics/siting"): [Call(NOT_FOUND, json={"kode_kab": o.kode_kab})],
        ("GET", "/api/v1/analytics/coverage"): per_region,
        ("GET", "/api/v1/analytics/coverage.csv"): per_region,
        ("GET", "/api/v1/analytics/coverage.geojson"): per_region,
        ("POST", "/api/v1/analytics/coverage/what-if"): [
            Call(NOT_FOUND, json={"kode_kab": o.kode_kab})],
        ("POST", "/api/v1/regions/{kode_kab}/population"): [Call(NOT_FOUND)],
        ("GET", "/maps/dashboard"): per_region,
        ("GET", "/maps/hotspots/gi"): per_region,
        ("GET", "/api/v1/reports/monthly"): [
            Call(NOT_FOUND, params={"kode_kab": o.kode_kab, "month": "2026-01"})],
        ("GET", "/api/v1/rules/{kode_kab}"): [Call(NOT_FOUND)],
        ("GET", "/api/v1/rules/{kode_kab}/versions"): [Call(NOT_FOUND)],
        ("GET", "/api/v1/rules/{kode_kab}/export.yaml"): [Call(NOT_FOUND)],
        ("PUT", "/api/v1/rules/{kode_kab}"): [Call(NOT_FOUND, json={
            "effective_from": "2026-01-01T00:00:00Z", "default": {"limit_min": 1}})],
        ("POST", "/api/v1/cap/warnings"): [Call(NOT_FOUND, json={
            "kode_kab": o.kode_kab, "categories": ["Fire"],
            "texts": [{"language": "id-ID", "event": "Kebakaran"}]})],
        ("POST", "/api/v1/cap/notices"): [
            Call(NOT_FOUND, json={"kode_kab": o.kode_kab, "xml": "<alert/>"})],
        ("GET", "/api/v1/cap/notices"): per_region,
        ("GET", "/api/v1/registry/posts"): listed,
        ("GET", "/api/v1/registry/posts/export"): listed,
        ("GET", "/api/v1/registry/posts/{post_id}"): [Call(NOT_FOUND)],
        ("POST", "/api/v1/registry/posts/import"): [Call(REFUSED, csv=(
            "kode_kab,agency,name,kind,lon,lat\n"
            f"{o.kode_kab},{DESK_AGENCY},Pos curian,fire_station,{far.lon},{far.lat}\n"))],
        ("GET", "/api/v1/registry/units"): listed,
        ("GET", "/api/v1/registry/units/export"): listed,
        ("POST", "/api/v1/registry/units/import"): [Call(REFUSED, csv=(
            "kode_kab,call_sign,agency,vehicle_type,profile\n"
            f"{o.kode_kab},CURIAN-01,{DESK_AGENCY},pumper,fire_truck\n"))],
        ("GET", "/api/v1/registry/trackers"): [Call(LISTED)],
        ("POST", "/api/v1/registry/trackers"): [
            Call(NOT_FOUND, json={"device_id": f"{me.mark}-curian".lower(),
                                  "kode_kab": o.kode_kab})],
        ("POST", "/api/v1/registry/trackers/{device_id}/credentials"): step,
        ("DELETE", "/api/v1/registry/trackers/{device_id}"): [Call(NOT_FOUND)],
        ("GET", "/api/v1/complaints/tickets"): [
            Call(LISTED, params={"incident_id": o.complaint_id})],
        ("GET", "/api/v1/complaints/tickets/{ticket_no}"): [Call(NOT_FOUND)],
        ("POST", "/api/v1/complaints/tickets/{ticket_no}/status"): [
            Call(NOT_FOUND, json={"status": "done"})],
        ("GET", "/api/v1/complaints/overdue"): per_region,
        ("POST", "/api/v1/calls"): [Call(NOT_FOUND, json={"kode_kab": o.kode_kab,
                                                          "kind": CALL_KIND})],
        ("GET", "/api/v1/calls/counts"): [
            Call(NOT_FOUND, params={"kode_kab": o.kode_kab, **PERIOD})],
        ("GET", "/api/v1/agencies/channels"): per_region,
        ("POST", "/api/v1/agencies/channels"): [Call(NOT_FOUND, json={
            "kode_kab": o.kode_kab, "agency_code": DESK_AGENCY, "kind": "email",
            "target": "curi@contoh.id"})],
        ("GET", f"{inc}/notifications"): [Call(NOT_FOUND)],
        ("GET", "/api/v1/analytics/hotspots/desa.csv"): per_region,
        ("GET", "/api/v1/analytics/hotspots/desa.geojson"): per_region,
        ("GET", "/console/rules"): per_region,
        ("GET", "/api/v1/handover"): per_region,
        ("GET", "/console/handover"): per_region,
        ("GET", "/console/registry"): [
            Call(LISTED), Call(LISTED, params={"kode_kab": o.kode_kab}, echoes_code=True)],
    }


def _placeholder(kode_kab: str) -> Side:
    return Side(kode_kab, "x", usernames={role: role for role in ROLES})


PROBED = sorted(probes(_placeholder(A), _placeholder(B)))


def _app_routes(app: Any) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for ctx in iter_route_contexts(app.routes):
        if isinstance(ctx.original_route, APIRoute):
            found |= {(m, ctx.path) for m in ctx.methods or () if m != "HEAD"}
        elif isinstance(ctx.original_route, APIWebSocketRoute):
            found.add(("WS", ctx.path))
    return found


@pytest.fixture(scope="module")
def tenancy(settings, database_url, engine, pilot_regions, tmp_path_factory):
    yield from world.tenancy_app(settings, database_url, engine, tmp_path_factory)


def _path(template: str, side: Side) -> str:
    values = {"incident_id": side.incident_id, "assignment_id": side.assignment_id,
              "unit_id": side.unit_id, "device_id": side.device_id, "kode_kab": side.kode_kab,
              "agency_code": DESK_AGENCY, "token_id": side.token_id,
              "exercise_id": side.exercise_id, "post_id": side.post_id,
              "ticket_no": side.ticket_no, "step_no": 1}
    return template.format(**values)


def test_every_route_is_classified(tenancy):
    client, _, _ = tenancy
    routes = _app_routes(client.app)
    known = set(NEUTRAL) | set(PROBED) | {("WS", p) for p in WEBSOCKETS}
    assert not routes - known, f"routes without a tenancy classification: {routes - known}"
    assert not known - routes, f"classified routes the app no longer has: {known - routes}"
    assert not set(NEUTRAL) & set(PROBED)


@pytest.mark.parametrize("route", PROBED, ids=lambda r: f"{r[0]} {r[1]}")
def test_route_keeps_regencies_apart(tenancy, engine, route):
    client, a, b = tenancy
    method, template = route
    allowed = rule_for(method, template)
    problems = []
    for me, other in ((a, b), (b, a)):
        before = world.snapshot(engine, other)
        for call in probes(me, other)[route]:
            url = _path(template, me if call.own_path else other)
            for role in ROLES:
                headers = {"Authorization": f"Bearer {me.tokens[role]}"}
                if call.csv is not None:
                    headers["Content-Type"] = "text/csv"
                r = client.request(method, url, params=call.params, json=call.json,
                                   content=call.csv, headers=headers)
                expect = call.expect if allowed and Role(role) in allowed else {403}
                where = f"{role}@{me.kode_kab} {method} {url} {call.params or ''}"
                if r.status_code not in expect:
                    problems.append(f"{where}: {r.status_code} not in {set(expect)}: "
                                    f"{r.text[:200]}")
                if r.status_code < 300:
                    leaked = [m for m in other.markers if m in r.text
                              and not (call.echoes_code and m == other.kode_kab)]
                    if leaked:
                        problems.append(f"{where}: shows {other.kode_kab} data {leaked}")
        assert world.snapshot(engine, other) == before, f"{route} changed {other.kode_kab}"
    assert not problems, "\n".join(problems)


def test_each_regency_sees_its_own_rows(tenancy):
    """The probes are not vacuous: the same users do see their own regency's rows."""
    client, a, b = tenancy
    for me in (a, b):
        def get(role: str, url: str, **params: Any) -> Any:
            r = client.get(url, params=params,
                           headers={"Authorization": f"Bearer {me.tokens[role]}"})  # noqa: B023
            assert r.status_code == 200, (role, url, r.text)
            return r
        assert me.mark in get("dispatcher", "/api/v1/incidents").text
        assert me.mark in get("dispatcher", f"/api/v1/incidents/{me.incident_id}").text
        assert me.mark in get("agency", f"/api/v1/incidents/{me.incident_id}").text
        assert me.mark in get("agency", "/api/v1/units").text
        assert me.device_id in get("viewer", "/api/v1/tracking/latest").text
        assert me.device_id in get("planner", "/api/v1/tracking/devices").text
        assert me.mark.lower() in get("admin", "/api/v1/auth/users").text
        assert get("admin", "/api/v1/auth/me").json()["kode_kabs"] == [me.kode_kab]
        sla = get("viewer", "/api/v1/reports/sla", kode_kab=me.kode_kab, **PERIOD).json()
        assert DESK_AGENCY in {row["agency"] for row in sla["agencies"]}
