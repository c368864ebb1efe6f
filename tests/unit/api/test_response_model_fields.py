"""The response models name every field the domain serializers write, so a field added to a
domain value is not silently dropped from the API's JSON (a response model filters its input),
and no model promises a field the serializer never writes."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from pydantic import BaseModel
from shapely.geometry import box

from api.schemas_dispatch import (
    RecommendedUnitOut,
    SlaSummaryOut,
)
from api.schemas_geo import (
    EtaOut,
    ProfileOut,
    RegionOut,
    ReverseOut,
    RouteStepOut,
    SearchCandidateOut,
)
from api.schemas_tracking import DeviceOut, FixPropertiesOut, RejectOut
from dispatch.ranking import Recommendation
from dispatch.recommend_service import recommendation_dict
from dispatch.sla import SlaSummary
from geo.area import AdminArea
from geo.geocode import Geocoder
from geo.routing.path import RouteStep
from geo.routing.profiles import load_profiles
from geo.routing.results import Eta
from geo.search import SearchCandidate
from geo.service import RegionSummary
from geo.types import LonLat
from tracking.fix import Fix
from tracking.records import DeviceInfo, RejectRecord

NOW = datetime(2026, 3, 1, 8, tzinfo=UTC)


def _names(model: type[BaseModel]) -> set[str]:
    return {f.alias or name for name, f in model.model_fields.items()}


def _fields(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def _same(written: set[str], model: type[BaseModel], *, added: set[str] = frozenset()) -> None:
    assert written | set(added) == _names(model), (
        f"{model.__name__}: only written {sorted(written | set(added) - _names(model))}, "
        f"only in the model {sorted(_names(model) - written - set(added))}")


def test_recommendation() -> None:
    r = Recommendation(1, "AMB-1", "DINKES", "available", "ambulance", True, 60.0, 900.0, 700.0,
                       False, "gps", LonLat(110.36, -7.8), True)
    written = set(recommendation_dict(r))
    assert written == _fields(Recommendation)
    _same(written, RecommendedUnitOut)
    RecommendedUnitOut.model_validate(recommendation_dict(r))


def test_geocoding_answers() -> None:
    area = AdminArea("34.71.01.1001", "Suryodiningratan", "kelurahan", "34.71.01",
                     "Mantrijeron", "34.71", "Kota Yogyakarta", "34", "DI Yogyakarta", None, None)
    answer = Geocoder([(area, box(110.35, -7.83, 110.37, -7.81))]).reverse(110.36, -7.82)
    _same(set(answer.to_dict()), ReverseOut, added={"lat", "lon"})
    hit = SearchCandidate("desa", "34.71.01.1001", "Suryodiningratan", "34.71.01", "Mantrijeron",
                          "34.71", "Kota Yogyakarta", 97.0, LonLat(110.36, -7.82))
    _same(set(hit.to_dict()), SearchCandidateOut)


def test_routing_values() -> None:
    _same(set(Eta(0, True, 60.0, 900.0, None).to_dict()), EtaOut, added={"id"})
    step = RouteStep("depart", "Jalan Malioboro", 100.0, 12.0, LonLat(110.36, -7.8))
    _same(set(step.to_dict()), RouteStepOut)
    _same(set(load_profiles()["ambulance"].to_dict()), ProfileOut)


def test_region_summary() -> None:
    _same(_fields(RegionSummary), RegionOut)


def test_tracking_records() -> None:
    _same(_fields(DeviceInfo), DeviceOut, added={"alive_without_fix"})
    _same(_fields(RejectRecord), RejectOut)
    fix_props = {"device_id", "fix_time", "seq", "speed_mps", "heading_deg", "altitude_m",
                 "hdop", "accuracy_m", "satellites", "battery_pct", "ignition", "source",
                 "received_at"}
    # Every Fix field but the position (the geometry) and the status-only ones is a property.
    assert fix_props <= _fields(Fix)
    _same(fix_props, FixPropertiesOut)


@pytest.mark.parametrize("cls,model", [(SlaSummary, SlaSummaryOut)])
def test_sla_summary(cls, model) -> None:
    _same(_fields(cls), model, added={"compliance_pct"})
