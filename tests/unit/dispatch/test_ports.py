"""The typed seams of dispatch: the geo implementations satisfy the protocols dispatch takes,
and the lifecycle/SLA vocabularies are StrEnums whose values are what the database stores."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from shapely.geometry import box

from dispatch import ports
from dispatch.config import ROLES
from dispatch.lifecycle import (
    INCIDENT_STATUSES,
    INCIDENT_TRANSITIONS,
    UNIT_STATUSES,
    UNIT_TRANSITIONS,
    AgencyRole,
    IncidentStatus,
    UnitStatus,
    incident_transition,
)
from dispatch.sla import SlaStatus, evaluate
from geo.area import AdminArea
from geo.geocode import Geocoder
from geo.routing.index import RoutingIndex
from geo.routing.profiles import load_profiles
from geo.routing.store import RoadNetworks

AREA = AdminArea("34.71.01.1001", "Suryodiningratan", "kelurahan", "34.71.01", "Mantrijeron",
                 "34.71", "Kota Yogyakarta", "34", "DI Yogyakarta", None, None)


def test_the_geocoder_is_a_dispatch_geocoder() -> None:
    geocoder = Geocoder([(AREA, box(110.35, -7.83, 110.37, -7.81))])
    assert isinstance(geocoder, ports.Geocoder)
    answer = geocoder.reverse(110.36, -7.82)
    assert answer.area == AREA and answer.match == "exact"


def test_road_networks_and_their_indexes_are_dispatch_seams(tmp_path) -> None:
    nets = RoadNetworks(tmp_path, load_profiles())
    assert isinstance(nets, ports.RoadNetworks)
    assert "ambulance" in nets.profiles
    assert not nets.has("34.71", "ambulance")  # nothing built under tmp_path
    assert issubclass(RoutingIndex, ports.RoutingTable)


def test_something_else_is_not_a_seam() -> None:
    assert not isinstance(object(), ports.Geocoder)
    assert not isinstance({"profiles": {}}, ports.RoadNetworks)


def test_status_enums_are_the_stored_vocabulary() -> None:
    assert UNIT_STATUSES == tuple(s.value for s in UnitStatus)
    assert INCIDENT_STATUSES == tuple(s.value for s in IncidentStatus)
    assert set(UNIT_TRANSITIONS) == set(UnitStatus)
    assert set(INCIDENT_TRANSITIONS) == set(IncidentStatus)
    assert ROLES == tuple(r.value for r in AgencyRole)
    # A member is its value: plain strings from the database match, JSON writes the value.
    assert incident_transition(IncidentStatus.NEW, IncidentStatus.TRIAGED) == "triaged"
    assert json.dumps([UnitStatus.ON_SCENE, AgencyRole.HANDOFF]) == '["on_scene", "handoff"]'


def test_sla_outcomes_carry_a_status_enum() -> None:
    start = datetime(2026, 3, 1, 8, tzinfo=UTC)
    met = evaluate(start, start + timedelta(minutes=5), 10, start + timedelta(hours=1))
    late = evaluate(start, None, 10, start + timedelta(minutes=11))
    running = evaluate(start, None, 10, start + timedelta(minutes=9))
    assert (met.status, late.status, running.status) == (
        SlaStatus.MET, SlaStatus.BREACHED, SlaStatus.PENDING)
    assert met.status == "met" and isinstance(met.status, SlaStatus)
