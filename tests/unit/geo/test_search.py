"""Name normalisation and ranking (pure)."""

from __future__ import annotations

import pytest
from shapely.geometry import MultiPolygon, box

from geo.geocode import AdminArea, Geocoder
from geo.search import normalize_name


@pytest.mark.parametrize(
    "text,key",
    [("Bayung Cerik", "bayungcerik"), ("Bayungcerik", "bayungcerik"),
     ("Kel. Gedong Tengen", "gedongtengen"), ("kec.Gedongtengen", "gedongtengen"),
     ("DESA  Abang-Batu Dinding", "abangbatudinding"), ("Kelurahan Kota Baru", "kotabaru"),
     ("Désa Sêrai", "serai")],
)
def test_normalize(text, key):
    assert normalize_name(text) == key


def _gc() -> Geocoder:
    def area(kode, nama, bps, kec="Kec Satu"):
        return AdminArea(kode, nama, "desa", kode[:8], kec, "99.01", "Kab X", "99", "P", None, bps)

    return Geocoder([
        (area("99.01.01.2001", "Tamanbali", "Taman Bali"), MultiPolygon([box(0, 0, 1, 1)])),
        (area("99.01.01.2002", "Serai", "Serahi"), MultiPolygon([box(1, 0, 2, 1)])),
        (area("99.01.02.2001", "Serai Kaja", "Serai Kaja", "Kec Dua"),
         MultiPolygon([box(0, 1, 1, 2)])),
    ])


def test_both_spellings_and_ranking():
    gc = _gc()
    assert gc.search("Taman Bali")[0].kode == "99.01.01.2001"
    assert gc.search("serahi")[0].matched_name == "Serahi"
    hits = gc.search("Serai")
    assert [h.kode for h in hits[:2]] == ["99.01.01.2002", "99.01.02.2001"]
    assert hits[0].score == 1.0 > hits[1].score
    p = hits[0].point
    assert box(1, 0, 2, 1).contains(box(p.lon, p.lat, p.lon, p.lat).centroid)


def test_restriction_and_limits():
    gc = _gc()
    assert [h.kode for h in gc.search("Serai", kode_kec="99.01.02")] == ["99.01.02.2001"]
    assert gc.search("Serai", kode_kab="12.34") == []
    assert len(gc.search("Serai", limit=1)) == 1
    with pytest.raises(ValueError):
        gc.search("  desa  ")
