"""Fleet and post files (pure): parsing, whole-file validation with row numbers, round trips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.registry_export import posts_csv, posts_geojson, units_csv, units_geojson
from dispatch.registry_fields import IMPORT_STATUSES, POST_KINDS, PROTOCOLS
from dispatch.registry_io import (
    PostRow,
    RegistryFileError,
    UnitRow,
    format_of,
    parse_posts,
    parse_units,
)
from geo.types import LonLat

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "registry"
HEADER = ("kode_kab,call_sign,agency,vehicle_type,profile,capabilities,home_post,crew_size,"
          "status,device_id,protocol\n")


def test_hand_made_bangli_files_parse():
    units = parse_units((FIXTURES / "bangli_fleet.csv").read_bytes(), "csv")
    posts = parse_posts((FIXTURES / "bangli_posts.geojson").read_bytes(), "geojson")
    assert [u.call_sign for u in units] == ["UJI-DAMKAR-KTM-1", "UJI-DAMKAR-BGL-2",
                                            "UJI-PSC-BGL-1"]
    first = units[0]
    assert first.row == 2 and first.capabilities == ("pumper", "rescue")
    assert first.home_post == "Pos Damkar Kintamani Uji" and first.crew_size == 5
    assert first.device_id == "uji-imei-860000000000101" and first.protocol == "gt06"
    assert units[1].device_id is None and units[1].protocol is None
    assert [(p.name, p.kind, p.lon, p.lat) for p in posts] == [
        ("Pos Damkar Kintamani Uji", "fire_station", 115.3531, -8.2905),
        ("Pos Terpadu Bangli Kota Uji", "psc119_base", 115.355, -8.456)]


def test_a_bad_row_refuses_the_file_with_its_line_number_and_reason():
    text = HEADER + ("51.06,A-1,DAMKAR,pumper,fire_truck,,,,available,,\n"
                     "51.06,A-2,DAMKAR,pumper,fire_truck,,,tiga,available,,\n"
                     "51.06,A-3,DAMKAR,pumper,fire_truck,,,,dispatched,,\n")
    with pytest.raises(RegistryFileError) as err:
        parse_units(text, "csv")
    assert [p[0] for p in err.value.problems] == [3, 4]
    assert "crew_size" in err.value.problems[0][2]
    assert "dispatched" in err.value.problems[1][2]
    assert "baris 3" in str(err.value) and "row 4" in str(err.value)
    assert err.value.as_detail()[0]["row"] == 3


def test_duplicates_within_the_file_are_refused():
    text = HEADER + ("51.06,A-1,DAMKAR,pumper,fire_truck,,,,,dev-1,\n"
                     "51.06,a-1,DAMKAR,pumper,fire_truck,,,,,dev-2,\n")
    with pytest.raises(RegistryFileError, match="row 3: call_sign repeats row 2"):
        parse_units(text, "csv")
    text = HEADER + ("51.06,A-1,DAMKAR,pumper,fire_truck,,,,,dev-1,\n"
                     "51.06,A-2,DAMKAR,pumper,fire_truck,,,,,dev-1,\n")
    with pytest.raises(RegistryFileError, match="device_id repeats row 2"):
        parse_units(text, "csv")


def test_header_problems_are_reported_on_line_one():
    with pytest.raises(RegistryFileError, match="row 1: wrong header") as err:
        parse_units("kode_kab,call_sign,warna\n51.06,A,merah\n", "csv")
    assert "warna" in str(err.value) and "agency" in str(err.value)


def test_semicolon_csv_with_decimal_commas_and_bom():
    text = ("\ufeffkode_kab;agency;name;kind;lon;lat;address\n"
            "51.06;DAMKAR;Pos A;fire_station;115,35;-8,45;Jl. A, Bangli\n")
    [post] = parse_posts(text.encode("utf-8"), "csv")
    assert (post.lon, post.lat, post.address) == (115.35, -8.45, "Jl. A, Bangli")


def test_swapped_or_missing_coordinates_and_wrong_geometry():
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-8.45, 115.35]},
         "properties": {"kode_kab": "51.06", "agency": "DAMKAR", "name": "A",
                        "kind": "fire_station"}},
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[1, 2], [3, 4]]},
         "properties": {"kode_kab": "51.06", "agency": "DAMKAR", "name": "B",
                        "kind": "fire_station"}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [115.3, -8.4]},
         "properties": {"kode_kab": "51.6", "agency": "DAMKAR", "name": "C", "kind": "pos"}},
    ]}
    with pytest.raises(RegistryFileError) as err:
        parse_posts(json.dumps(doc), "geojson")
    rows = [p[0] for p in err.value.problems]
    assert rows == [1, 2, 3]
    assert "swapped" in err.value.problems[0][2]
    assert "Point" in err.value.problems[1][2]


@pytest.mark.parametrize("data", [b"\xff\xfe", b"{", b"[]", b'{"type": "Feature"}',
                                  b'{"type":"FeatureCollection","features":[1]}'])
def test_unreadable_geojson_is_refused(data):
    with pytest.raises(RegistryFileError):
        parse_posts(data, "geojson")


def test_format_of_file_names():
    assert format_of("armada.CSV") == "csv"
    assert format_of("pos.geojson") == format_of("pos.json") == "geojson"
    with pytest.raises(RegistryFileError):
        format_of("armada.xlsx")


_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20
                ).map(str.strip).filter(bool)
_code = st.from_regex(r"[A-Z0-9_]{1,12}", fullmatch=True)
_kode = st.from_regex(r"\d{2}\.\d{2}", fullmatch=True)
units_st = st.builds(
    UnitRow, row=st.just(0), kode_kab=_kode, call_sign=_text, agency=_code, vehicle_type=_text,
    profile=_code,
    capabilities=st.lists(st.from_regex(r"[a-z_]{1,10}", fullmatch=True), max_size=3,
                          unique=True).map(tuple),
    home_post=st.none() | _text, crew_size=st.none() | st.integers(0, 99),
    status=st.sampled_from(IMPORT_STATUSES),
    device_id=st.none() | st.from_regex(r"[a-zA-Z0-9 @._-]{1,20}", fullmatch=True).map(
        str.strip).filter(bool),
    protocol=st.none() | st.sampled_from(PROTOCOLS))
posts_st = st.builds(
    PostRow, row=st.just(0), kode_kab=_kode, agency=_code, name=_text,
    kind=st.sampled_from(POST_KINDS),
    lon=st.floats(-180, 180, allow_nan=False), lat=st.floats(-90, 90, allow_nan=False),
    address=st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30
                    ).map(str.strip))


def _same(parsed, original):
    return [type(o)(**{**o.__dict__, "row": p.row}) for p, o in zip(parsed, original,
                                                                   strict=True)] == parsed


@settings(max_examples=60, deadline=None)
@given(st.lists(units_st, max_size=6, unique_by=(lambda u: (u.kode_kab, u.call_sign.casefold()),
                                                  lambda u: u.device_id or object())))
def test_units_round_trip_through_csv_and_geojson(units):
    assert _same(parse_units(units_csv(units), "csv"), units)
    assert _same(parse_units(units_geojson(units, {}), "geojson"), units)


@settings(max_examples=60, deadline=None)
@given(st.lists(posts_st, max_size=6, unique_by=lambda p: (p.kode_kab, p.name.casefold())))
def test_posts_round_trip_through_csv_and_geojson(posts):
    assert _same(parse_posts(posts_csv(posts), "csv"), posts)
    assert _same(parse_posts(posts_geojson(posts), "geojson"), posts)


def test_unit_geojson_export_places_units_at_their_home_post():
    [unit] = parse_units(HEADER + "51.06,A-1,DAMKAR,pumper,fire_truck,,Pos A,,,,\n", "csv")
    doc = json.loads(units_geojson([unit], {("51.06", "Pos A"): LonLat(115.3, -8.4)}))
    assert doc["features"][0]["geometry"] == {"type": "Point", "coordinates": [115.3, -8.4]}


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=400).map(str.encode),
       st.sampled_from(["csv", "geojson", "xml"]))
def test_arbitrary_bytes_never_raise_anything_but_the_file_error(data, fmt):
    for parse in (parse_units, parse_posts):
        try:
            parse(data, fmt)
        except RegistryFileError:
            pass


_json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3), max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.fixed_dictionaries({"type": st.just("Feature"), "geometry": _json_value,
                                       "properties": st.dictionaries(
                                           st.sampled_from(["kode_kab", "agency", "name", "kind",
                                                            "call_sign", "profile", "crew_size",
                                                            "capabilities", "device_id"]),
                                           _json_value)}), max_size=4))
def test_hostile_geojson_properties_only_raise_the_file_error(features):
    doc = json.dumps({"type": "FeatureCollection", "features": features})
    for parse in (parse_units, parse_posts):
        try:
            parse(doc, "geojson")
        except RegistryFileError:
            pass
