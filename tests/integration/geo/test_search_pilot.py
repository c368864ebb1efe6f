"""Forward search over the pilot regions: both spellings, spacing, typos, restrictions."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("q", ["Bayung Cerik", "Bayungcerik", "desa bayung-cerik", "Bayung Cerk"])
def test_bayung_cerik(geocoder, q):
    top = geocoder.search(q)[0]
    assert (top.level, top.kode, top.nama_kec) == ("desa", "51.06.04.2008", "Kintamani")
    assert geocoder.reverse(top.point.lon, top.point.lat).area.kode_desa == top.kode


@pytest.mark.parametrize("q", ["Gedong Tengen", "Gedongtengen", "kec. gedong tengen"])
def test_gedong_tengen(geocoder, q):
    top = geocoder.search(q)[0]
    assert (top.level, top.kode, top.nama) == ("kecamatan", "34.71.05", "Gedongtengen")
    assert geocoder.reverse(top.point.lon, top.point.lat).area.kode_kec == "34.71.05"


def test_typo_kotagde(geocoder):
    top = geocoder.search("Kotagde")[0]
    assert (top.kode, top.nama) == ("34.71.14", "Kotagede") and 0.6 < top.score < 1.0


def test_bps_spelling_and_restriction(geocoder):
    assert geocoder.search("Purwo Kinanti")[0].kode == "34.71.11.1001"
    assert geocoder.search("Abang Batu Dinding")[0].kode == "51.06.04.2022"
    hits = geocoder.search("Bangli", kode_kab="51.06")
    assert hits and all(h.kode_kab == "51.06" for h in hits)
    assert all(h.kode_kab == "51.06" for h in geocoder.search("Kricak", kode_kab="51.06"))
    assert geocoder.search("Kricak")[0].kode == "34.71.01.1001"
    in_kec = geocoder.search("Abang", kode_kec="51.06.04")
    assert in_kec and all(h.kode_kec == "51.06.04" for h in in_kec)
