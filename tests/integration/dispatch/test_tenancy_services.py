"""The service layer itself filters by the tenancy scope (not only the routes): lookups by id of
another regency's rows are not found, lists leave them out, writes into another regency are
refused, and an agency desk sees its own agency's rows only. Real PostGIS, rolled back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from dispatch import analytics_service, assignment_service, intake, report_service
from dispatch import incident_service as incidents
from dispatch.exceptions import (
    AssignmentNotFound,
    DispatchValidationError,
    IncidentNotFound,
    RegionNotFound,
    UnitNotFound,
)
from dispatch.models import Agency, Unit
from dispatch.scope import Scope
from geo.types import LonLat
from tests.fixtures.dispatch import make_fix, store_fixes
from tracking import service as tracking
from tracking.exceptions import DeviceNotFoundError

A, B = "34.71", "51.06"
PLACE = {A: LonLat(110.3695, -7.8014), B: LonLat(115.3548, -8.2976)}
EVERYTHING = Scope.everything()


def _fire(session, config, kode_kab: str) -> int:
    incident = intake.create_incident(session, config=config, geocoder=None, category="fire",
                                      actor="uji", kode_kab=kode_kab,
                                      location=PLACE[kode_kab], scope=EVERYTHING).value
    intake.triage_incident(session, incident.id, config=config, actor="uji", scope=EVERYTHING)
    return incident.id


def _unit(session, kode_kab: str, agency: str) -> Unit:
    return session.scalars(select(Unit).join(Agency, Agency.id == Unit.agency_id).where(
        Unit.kode_kab == kode_kab, Agency.code == agency, Unit.status == "available")
        .order_by(Unit.id)).first()


@pytest.fixture
def two_regencies(seeded, dispatch_config):
    session = seeded
    ids = {kab: _fire(session, dispatch_config, kab) for kab in (A, B)}
    units = {kab: _unit(session, kab, "DAMKAR") for kab in (A, B)}
    assigned = {kab: assignment_service.assign_unit(
        session, ids[kab], units[kab].id, config=dispatch_config, actor="uji",
        scope=EVERYTHING).value.id
        for kab in (A, B)}
    session.flush()
    return session, ids, units, assigned


def test_lookups_by_id_of_another_regency_are_not_found(two_regencies, dispatch_config):
    session, ids, units, assigned = two_regencies
    yogya = Scope.of([A])
    assert incidents.get_incident(session, ids[A], scope=yogya).kode_kab == A
    with pytest.raises(IncidentNotFound):
        incidents.get_incident(session, ids[B], scope=yogya)
    with pytest.raises(IncidentNotFound):
        incidents.timeline(session, ids[B], scope=yogya)
    with pytest.raises(UnitNotFound):
        assignment_service.get_unit(session, units[B].id, scope=yogya)
    with pytest.raises(AssignmentNotFound):
        assignment_service.acknowledge(session, assigned[B], actor="uji", scope=yogya)
    with pytest.raises(IncidentNotFound):
        incidents.change_incident_status(session, ids[B], "cancelled", actor="uji", scope=yogya)
    other_unit = _unit(session, B, "PSC119")
    with pytest.raises(UnitNotFound):  # a unit of the other regency onto one's own incident
        assignment_service.assign_unit(session, ids[A], other_unit.id, config=dispatch_config,
                                       actor="uji", scope=yogya)
    assert incidents.get_incident(session, ids[B],
                                  scope=EVERYTHING).status == "dispatched"  # untouched


def test_lists_reports_and_analytics_stay_inside_the_scope(two_regencies):
    session, ids, units, _ = two_regencies
    yogya = Scope.of([A])
    listed = {i.id for i in incidents.list_incidents(session, scope=yogya, limit=1000)}
    assert ids[A] in listed and ids[B] not in listed
    assert {u.kode_kab for u, _ in assignment_service.list_units(session, scope=yogya)} == {A}
    assert {a.kode_kab for a in assignment_service.list_agencies(session, scope=yogya)} == {A}
    now = datetime.now(UTC)
    with pytest.raises(RegionNotFound):
        report_service.sla_report(session, kode_kab=B, start=now - timedelta(days=1), end=now,
                                  scope=yogya)
    with pytest.raises(RegionNotFound):
        analytics_service.hour_of_week(session=session, kode_kab=B,
                                       flt=analytics_service.IncidentFilter(scope=yogya))
    province = Scope.of([A, B])  # a province centre serving both
    both = {i.id for i in incidents.list_incidents(session, scope=province, limit=1000)}
    assert {ids[A], ids[B]} <= both


def test_intake_refuses_an_incident_in_another_regency(seeded, dispatch_config):
    with pytest.raises(DispatchValidationError, match="51.06"):
        intake.create_incident(seeded, config=dispatch_config, geocoder=None, category="fire",
                               actor="uji", kode_kab=B, location=PLACE[B],
                               scope=Scope.of([A]))


def test_an_agency_desk_sees_only_its_agency_in_its_regency(two_regencies):
    session, ids, units, assigned = two_regencies
    desk = Scope.of([A], agency_code="DAMKAR")
    other_desk = Scope.of([A], agency_code="DISHUB")
    assert incidents.get_incident(session, ids[A], scope=desk).id == ids[A]
    with pytest.raises(IncidentNotFound):  # DISHUB takes no part in a fire
        incidents.get_incident(session, ids[A], scope=other_desk)
    assert assignment_service.get_assignment(session, assigned[A], scope=desk)
    with pytest.raises(AssignmentNotFound):
        assignment_service.get_assignment(session, assigned[A], scope=other_desk)
    agencies = {a.code for _, a in assignment_service.list_units(session, scope=desk)}
    assert agencies == {"DAMKAR"}
    with pytest.raises(IncidentNotFound):  # its own agency, but another regency
        incidents.get_incident(session, ids[B], scope=desk)


def test_tracking_reads_take_the_callers_regencies(seeded):
    session = seeded
    now = datetime.now(UTC)
    for kab, device in ((A, "tenancy-yk-1"), (B, "tenancy-bli-1")):
        tracking.register_device(session, device, kode_kab=kab)
        store_fixes(session, [make_fix(device, now - timedelta(seconds=5), PLACE[kab].lon,
                                       PLACE[kab].lat)])
    mine = tracking.latest_positions(session, ["tenancy-yk-1", "tenancy-bli-1"],
                                     kode_kabs={A})
    assert set(mine) == {"tenancy-yk-1"}
    assert {d.device_id for d in tracking.list_devices(session, kode_kabs={A})} >= {
        "tenancy-yk-1"}
    assert "tenancy-bli-1" not in {d.device_id for d in tracking.list_devices(
        session, kode_kabs={A})}
    with pytest.raises(DeviceNotFoundError):
        tracking.get_device(session, "tenancy-bli-1", kode_kabs={A})
    assert tracking.fixes_between(session, "tenancy-bli-1", now - timedelta(hours=1), now,
                                  kode_kabs={A}) == []
