"""Choosing regencies of a national boundary file by province or kabupaten code (pure)."""

import pytest

from geo.exceptions import RegionImportError
from geo.national import KabupatenEntry, choose_kabupaten

AVAILABLE = {k: KabupatenEntry(k, f"Kab {k}", 10) for k in
             ("34.71", "51.01", "51.06", "52.01", "52.03", "64.71")}


def test_province_takes_its_regencies_and_codes_take_themselves():
    assert choose_kabupaten(AVAILABLE, province="51") == ["51.01", "51.06"]
    assert choose_kabupaten(AVAILABLE, kabupaten=["52.03", "51.06", "52.03"]) == [
        "51.06", "52.03"]
    assert choose_kabupaten(AVAILABLE, province="52", kabupaten=[" 52.01 "]) == ["52.01"]
    one = {"34.71": AVAILABLE["34.71"]}
    assert choose_kabupaten(one) == ["34.71"]  # a one-regency file needs no filter


@pytest.mark.parametrize("kwargs, message", [
    ({"province": "5"}, "invalid province code '5'"),
    ({"province": "5a"}, "kode provinsi '5a' tidak valid"),
    ({"kabupaten": ["51.6"]}, "invalid regency code(s) '51.6'"),
    ({"province": "51", "kabupaten": ["52.03"]}, "52.03 bukan bagian dari provinsi 51"),
    ({"kabupaten": ["51.99"]}, "51.99 tidak ada dalam berkas / not in the file; it holds "
                               "51.01, 51.06"),
    ({"province": "99"}, "province 99 is not in the file; it holds provinces 34, 51, 52, 64"),
    ({}, "holds 6 regencies: choose with --province or --kabupaten"),
])
def test_wrong_or_missing_codes_say_what_the_file_holds(kwargs, message):
    with pytest.raises(RegionImportError) as caught:
        choose_kabupaten(AVAILABLE, file_name="desa.gpkg", **kwargs)
    assert message in str(caught.value)


def test_long_lists_are_shortened():
    many = {f"11.{i:02d}": KabupatenEntry(f"11.{i:02d}", "x", 1) for i in range(1, 30)}
    with pytest.raises(RegionImportError, match=r"11\.12, \.\.\. \(29 in all\)"):
        choose_kabupaten(many)
