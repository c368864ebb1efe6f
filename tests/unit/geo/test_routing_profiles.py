"""Vehicle profiles as data: the shipped file, overrides, validation, speed rules."""

from __future__ import annotations

import pytest
import yaml

from geo.exceptions import RoutingError, UnknownProfileError
from geo.routing.build import parse_maxspeed_kmh
from geo.routing.profiles import DEFAULT_PROFILES_PATH, get_profile, load_profiles

REQUIRED = {"fire_truck", "ambulance", "motorcycle", "pickup_4x4", "heavy_equipment"}


def test_shipped_profiles_are_complete_and_bilingual():
    profiles = load_profiles()
    assert REQUIRED <= set(profiles)
    for name, p in profiles.items():
        assert p.name == name
        assert p.label_id and p.label_en and p.label_id != p.label_en
        assert p.speed_for("primary") and p.speed_for("primary") <= p.max_speed_kmh
        assert p.offroad_speed_kmh > 0 and p.detour_factor >= 1.0
        assert not p.ignore_oneway, "emergency vehicles respect one-way streets by default"
    assert profiles["fire_truck"].speed_for("living_street") is None
    assert profiles["motorcycle"].speed_for("living_street") is not None
    assert profiles["heavy_equipment"].speed_for("residential") is None
    assert profiles["heavy_equipment"].speed_for("trunk") is not None


def test_link_roads_fall_back_to_their_class_and_caps_apply():
    amb = load_profiles()["ambulance"]
    assert amb.speed_for("primary_link") == amb.speed_for("primary")
    assert amb.speed_for("motorway") <= amb.max_speed_kmh
    assert amb.speed_for("bus_guideway") is None  # no speed, no default: not usable
    heavy = load_profiles()["heavy_equipment"]
    assert heavy.speed_for("residential_link") is None  # forbidden base class


def test_profiles_file_can_be_overridden(tmp_path):
    doc = yaml.safe_load(DEFAULT_PROFILES_PATH.read_text())
    doc["profiles"]["ambulance"]["speeds_kmh"]["primary"] = 20
    doc["profiles"]["ambulance"]["ignore_oneway"] = True
    doc["profiles"] = {"ambulance": doc["profiles"]["ambulance"]}
    path = tmp_path / "profiles.yaml"
    path.write_text(yaml.safe_dump(doc))
    custom = load_profiles(path)
    assert set(custom) == {"ambulance"}
    assert custom["ambulance"].speed_for("primary") == 20
    assert custom["ambulance"].ignore_oneway
    assert custom["ambulance"].fingerprint() != load_profiles()["ambulance"].fingerprint()


@pytest.mark.parametrize("text", [
    "profiles: [1, 2]",
    "profiles: {a: {speeds_kmh: {primary: -5}}}",
    "profiles: {a: {speeds_kmh: {primary: fast}}}",
    "profiles: {a: {speeds_kmh: {primary: 30}, signal_penalty_s: -1}}",
    "profiles: {}",
    "profiles: {a: [",
])
def test_invalid_profiles_files_are_refused(tmp_path, text):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(RoutingError):
        load_profiles(path)


def test_missing_file_and_unknown_name(tmp_path):
    with pytest.raises(RoutingError, match="cannot read"):
        load_profiles(tmp_path / "none.yaml")
    with pytest.raises(UnknownProfileError, match="known: ambulance"):
        get_profile(load_profiles(), "tank")


@pytest.mark.parametrize(("tag", "kmh"), [
    ("40", 40.0), ("30 mph", 30 * 1.609344), (["60", "40"], 40.0), ("ID:urban", None),
    ("signals", None), ("2", None), (None, None), ("50 km/h", 50.0),
])
def test_maxspeed_parsing(tag, kmh):
    got = parse_maxspeed_kmh(tag)
    assert got == (pytest.approx(kmh) if kmh is not None else None)
