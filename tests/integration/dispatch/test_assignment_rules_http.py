"""Assignment rules over HTTP: cancelling an incident ends its assignments and releases the units
(audited, one transaction); a unit with an active assignment cannot be set available by PATCH
nor assigned again (409, never 500); a manual arrival time must lie between the dispatch time
and now (+ clock skew) and carry a time zone (else 422)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dispatch.models import Assignment, AuditLog, Unit
from tests.integration.api.test_commit_before_response import (
    KODE,
    bearer,
    served_app,
    world,
)

__all__ = ["world"]


@pytest.fixture
def dispatcher(world, app_factory) -> Iterator[TestClient]:
    app = served_app(app_factory, world["config"])
    with TestClient(app, headers=bearer(world["tokens"]["dispatcher"]),
                    raise_server_exceptions=False) as c:
        yield c


def _dispatched_incident(c: TestClient, unit_ids: list[int], lon: float = 121.002) -> tuple:
    r = c.post("/api/v1/incidents", json={"category": "fire", "kode_kab": KODE, "lon": lon,
                                          "lat": -5.003})
    assert r.status_code == 201, r.text
    iid = r.json()["id"]
    assert c.post(f"/api/v1/incidents/{iid}/triage", json={}).status_code == 200
    aids = []
    for uid in unit_ids:
        r = c.post("/api/v1/assignments", json={"incident_id": iid, "unit_id": uid})
        assert r.status_code == 201, r.text
        aids.append(r.json()["id"])
    return iid, aids


def test_cancel_ends_assignments_and_releases_units(world, dispatcher, engine):
    u0, u1 = world["units"][:2]
    iid, (a0, a1) = _dispatched_incident(dispatcher, [u0, u1])
    assert dispatcher.post(f"/api/v1/assignments/{a1}/depart", json={}).status_code == 200
    r = dispatcher.post(f"/api/v1/incidents/{iid}/status", json={"status": "cancelled",
                                                                    "reason": "uji"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
    with Session(engine) as s:
        rows = {a.id: a for a in s.scalars(select(Assignment).where(
            Assignment.incident_id == iid))}
        assert {a.status for a in rows.values()} == {"cancelled"}
        assert all(a.cleared_at is not None for a in rows.values())
        assert s.get(Unit, u0).status == "available"  # stood down before leaving
        assert s.get(Unit, u1).status == "returning"  # was on the way
        audits = s.scalars(select(AuditLog).where(
            AuditLog.entity == "assignment", AuditLog.entity_id.in_([a0, a1]),
            AuditLog.action == "cancel")).all()
        assert len(audits) == 2
        assert all(e.after["reason"] == f"incident {iid} cancelled" for e in audits)
    # Both units can be sent again at once.
    iid2, _ = _dispatched_incident(dispatcher, [u0], lon=121.004)
    assert dispatcher.get(f"/api/v1/incidents/{iid2}").json()["status"] == "dispatched"


def test_unit_with_active_assignment_cannot_be_freed_or_reassigned(world, dispatcher, engine):
    u0 = world["units"][0]
    iid, (aid,) = _dispatched_incident(dispatcher, [u0])
    r = dispatcher.patch(f"/api/v1/units/{u0}", json={"status": "available"})
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "unit_unavailable"
    assert f"#{aid}" in r.json()["error"]["message"]
    # A unit marked available while its assignment stayed active (rows written before this
    # rule) is refused with 409 too, not a 500 from the unique index.
    with Session(engine) as s:
        s.execute(update(Unit).where(Unit.id == u0).values(status="available"))
        s.commit()
    other = dispatcher.post("/api/v1/incidents", json={"category": "fire", "kode_kab": KODE,
                                                       "lon": 121.006, "lat": -5.003}).json()
    assert dispatcher.post(f"/api/v1/incidents/{other['id']}/triage", json={}).status_code == 200
    r = dispatcher.post("/api/v1/assignments", json={"incident_id": other["id"], "unit_id": u0})
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "unit_unavailable"
    with Session(engine) as s:
        assert s.scalars(select(Assignment.id).where(Assignment.unit_id == u0,
                                                     Assignment.status == "active")).all() == [aid]
    # Clearing the assignment is the way to free the unit.
    with Session(engine) as s:
        s.execute(update(Unit).where(Unit.id == u0).values(status="dispatched"))
        s.commit()
    assert dispatcher.post(f"/api/v1/assignments/{aid}/clear", json={}).status_code == 200
    assert dispatcher.post("/api/v1/assignments", json={"incident_id": other["id"],
                                                        "unit_id": u0}).status_code == 201


@pytest.mark.parametrize("at", [
    "2000-01-01T00:00:00+00:00",  # backdated before the dispatch
    "future",
    "naive",
])
def test_manual_arrival_time_outside_the_assignment_is_refused(world, dispatcher, engine, at):
    iid, (aid,) = _dispatched_incident(dispatcher, [world["units"][2]])
    if at == "future":
        at = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    elif at == "naive":
        at = datetime.now(UTC).replace(tzinfo=None).isoformat()
    r = dispatcher.post(f"/api/v1/assignments/{aid}/arrive", json={"at": at})
    assert r.status_code == 422, r.text
    # A naive time may already be refused by the request schema (invalid_request).
    assert r.json()["error"]["code"] in ("invalid_dispatch_input", "invalid_request")
    if r.json()["error"]["code"] == "invalid_dispatch_input":
        assert " / " in r.json()["error"]["message"]  # Bahasa Indonesia / English
    with Session(engine) as s:
        a = s.get(Assignment, aid)
        assert a.arrived_at is None and a.status == "active"


def test_manual_arrival_within_the_window_is_kept(world, dispatcher):
    iid, (aid,) = _dispatched_incident(dispatcher, [world["units"][2]])
    # Within the clock-skew allowance, given in WIB (+07:00): accepted and stored as that instant.
    at_wib = (datetime.now(UTC) + timedelta(seconds=30)).astimezone(ZoneInfo("Asia/Jakarta"))
    r = dispatcher.post(f"/api/v1/assignments/{aid}/arrive", json={"at": at_wib.isoformat()})
    assert r.status_code == 200, r.text
    assert r.json()["arrival_source"] == "manual"
    got = datetime.fromisoformat(r.json()["arrived_at"])
    assert abs((got - at_wib).total_seconds()) < 1e-3
