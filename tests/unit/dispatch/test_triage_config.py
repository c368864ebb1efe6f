"""Triage rules and SLA resolution from the shipped configuration and from parsed documents."""

import pytest

from dispatch.config import AgencyRequirement, load_config, parse_config
from dispatch.exceptions import DispatchConfigError, DispatchValidationError
from dispatch.triage import TriageOverride, triage

PILOTS = ("34.71", "51.06", "64.71")
REQUIRED_AGENCIES = {"DAMKAR", "BPBD", "PSC119", "SATPOLPP", "DISHUB", "PUPR", "DINSOS",
                     "DPPPA", "POLRI110", "BNPB117"}


@pytest.fixture(scope="module")
def config():
    return load_config()


def test_pilot_regions_have_every_required_agency(config):
    for kode in PILOTS:
        region = config.region(kode)
        assert {a.code for a in region.agencies} >= REQUIRED_AGENCIES
        external = {a.code: a.handoff_number for a in region.agencies if a.kind == "external"}
        assert external == {"POLRI110": "110", "BNPB117": "117"}


def test_fire_is_fifteen_minutes_everywhere(config):
    for kode in PILOTS:
        assert config.sla_for(kode, "DAMKAR", "fire").on_scene_min == 15


def test_bangli_every_opd_two_hours_for_emergencies(config):
    for agency in ("BPBD", "PUPR", "DISHUB", "PSC119", "SATPOLPP", "DINSOS"):
        for category in ("landslide", "flood", "traffic_accident"):
            assert config.sla_for("51.06", agency, category).on_scene_min == 120


def test_house_fire_needs_damkar_and_psc119_on_standby(config):
    result = triage(config, "34.71", "fire")
    assert (result.kind, result.priority) == ("emergency", 1)
    assert [(a.agency, a.role) for a in result.agencies] == [
        ("DAMKAR", "dispatch"), ("PSC119", "standby")]
    assert result.agencies[0].capabilities == ("pumper",)
    assert not result.overridden


def test_landslide_on_road_needs_bpbd_pupr_heavy_equipment_and_dishub(config):
    result = triage(config, "34.71", "landslide")
    codes = [a.agency for a in result.agencies if a.role == "dispatch"]
    assert codes == ["BPBD", "PUPR", "DISHUB"]
    assert result.agencies[1].capabilities == ("excavator",)


def test_public_service_complaint_is_forwarded_not_dispatched(config):
    result = triage(config, "34.71", "road_damage")
    assert result.kind == "public_service"
    assert [(a.agency, a.role, a.units) for a in result.agencies] == [("PUPR", "forward", 0)]


def test_dispatcher_override(config):
    override = TriageOverride(
        priority=2, agencies=(AgencyRequirement("DAMKAR", "dispatch", ("pumper",), 2),),
        reason="dua rumah terbakar",
    )
    result = triage(config, "34.71", "fire", override)
    assert result.overridden and result.priority == 2 and result.reason == "dua rumah terbakar"
    assert result.agencies[0].units == 2
    with pytest.raises(DispatchValidationError):
        triage(config, "34.71", "fire", TriageOverride(kind="party"))
    with pytest.raises(DispatchValidationError):
        triage(config, "34.71", "fire", TriageOverride(priority=9))
    with pytest.raises(DispatchValidationError):
        triage(config, "34.71", "fire",
               TriageOverride(agencies=(AgencyRequirement("NASA"),)))


def test_unknown_category_and_region(config):
    with pytest.raises(DispatchConfigError, match="unknown category"):
        triage(config, "34.71", "alien_landing")
    with pytest.raises(DispatchConfigError, match="no dispatch configuration"):
        triage(config, "99.99", "fire")


def test_missing_agency_is_reported_not_dropped_silently():
    doc = {
        "categories": {"fire": {"kind": "emergency", "agencies": [
            {"agency": "DAMKAR"}, {"agency": "PSC119", "role": "standby"}]}},
        "regions": {"11.01": {"agencies": [{"code": "DAMKAR", "name": "Damkar"}],
                              "sla": {"default": {"ack_min": 5, "on_scene_min": 30}}}},
    }
    result = triage(parse_config([doc]), "11.01", "fire")
    assert [a.agency for a in result.agencies] == ["DAMKAR"]
    assert result.missing_agencies == ("PSC119",)


@pytest.mark.parametrize("doc,message", [
    ({"categories": {"x": {"kind": "weird"}}}, "kind must be"),
    ({"categories": {"x": {"kind": "emergency", "agencies": [{"role": "dispatch"}]}}},
     "without 'agency'"),
    ({"categories": {"x": {"kind": "emergency", "agencies": [{"agency": "A", "role": "z"}]}}},
     "role"),
    ({"regions": {"1": {"agencies": [], "sla": {}}}}, "sla.default"),
    ({"regions": {"1": {"sla": {"default": {"ack_min": 0, "on_scene_min": 3}}}}}, "positive"),
    ({"regions": {"1": {"sla": {"default": {"ack_min": 1}}}}}, "numeric"),
])
def test_invalid_documents_are_rejected(doc, message):
    with pytest.raises(DispatchConfigError, match=message):
        parse_config([doc])
