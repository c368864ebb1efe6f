"""Population CSV parsing: the pilot file, and every bad row refused with its number."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.population import PopulationFileError, parse_population_csv

PILOT = Path(__file__).resolve().parents[3] / "data" / "bangli" / "population.csv"
HEADER = "level,kode,kode_bps,nama,penduduk,laki_laki,perempuan,tahun,sumber\n"


def test_the_pilot_file():
    rows = parse_population_csv(PILOT.read_bytes())
    kec = {r.kode: r.penduduk for r in rows if r.level == "kecamatan"}
    assert kec == {"51.06.01": 48682, "51.06.02": 54438, "51.06.03": 43138, "51.06.04": 112463}
    latest = max((r for r in rows if r.level == "kabupaten"), key=lambda r: r.tahun)
    assert (latest.tahun, latest.penduduk, latest.laki_laki) == (2025, 260526, 131868)
    assert all(r.kode_kab == "51.06" for r in rows)


@pytest.mark.parametrize(("line", "needle"), [
    ("provinsi,51,,Bali,1,,,2020,x", "level"),
    ("kecamatan,51.06,,Susut,1,,,2020,x", "kecamatan"),
    ("kecamatan,51.06.01,,Susut,-5,,,2020,x", "penduduk"),
    ("kecamatan,51.06.01,,Susut,12.5,,,2020,x", "penduduk"),
    ("kecamatan,51.06.01,,Susut,,,,2020,x", "penduduk"),
    ("kecamatan,51.06.01,,Susut,10,,,20,x", "1900"),
    ("kecamatan,51.06.01,,Susut,10,x,,2020,x", "laki_laki"),
    ("kecamatan,51.06.01,,Susut,10,,,2020,x,extra", "more fields"),
    ("kecamatan,51.06.01,,Susut,999999999999,,,2020,x", "penduduk"),
])
def test_a_bad_row_refuses_the_file_with_its_number(line, needle):
    good = "kecamatan,51.06.02,,Bangli,10,,,2020,x\n"
    with pytest.raises(PopulationFileError, match=r"row 3") as err:
        parse_population_csv((HEADER + good + line + "\n").encode())
    assert needle in str(err.value)


def test_duplicates_nul_encoding_and_empty():
    dup = HEADER + "kecamatan,51.06.01,,A,1,,,2020,x\nkecamatan,51.06.01,,A,2,,,2020,y\n"
    with pytest.raises(PopulationFileError, match="row 3.*row 2"):
        parse_population_csv(dup.encode())
    with pytest.raises(PopulationFileError, match="NUL"):
        parse_population_csv((HEADER + "kecamatan,51.06.01,,A\x00,1,,,2020,x\n").encode())
    with pytest.raises(PopulationFileError, match="UTF-8"):
        parse_population_csv(HEADER.encode() + b"kecamatan,51.06.01,,\xff,1,,,2020,x\n")
    with pytest.raises(PopulationFileError, match="no data rows"):
        parse_population_csv(HEADER.encode())
    with pytest.raises(PopulationFileError, match="required columns"):
        parse_population_csv(b"kode,jumlah\n51.06,3\n")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_give_rows_or_a_typed_error(data):
    try:
        rows = parse_population_csv(HEADER.encode() + data)
    except PopulationFileError:
        return
    assert all(r.penduduk >= 0 for r in rows)
