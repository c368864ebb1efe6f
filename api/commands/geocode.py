"""``siaga geocode``: reverse, search and a CSV batch over the regions in PostGIS."""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import typer
from typer.core import TyperCommand

from api.commands._common import fail, print_json, session_scope
from api.readiness import NO_REGIONS

app = typer.Typer(help="Geokode wilayah / reverse and forward geocoding.", no_args_is_help=True)

#: A negative number such as ``-7.80`` or ``-1e-3``: never one of our option names.
_NEGATIVE_NUMBER = re.compile(r"-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


class NumberFriendlyCommand(TyperCommand):
    """Command that takes negative numbers as positional arguments (``reverse -7.80 110.37``).

    Click reads any token starting with ``-`` as an option; when a token is a negative number,
    unknown "options" are kept as arguments instead, so ``-7.80`` reaches ``LAT``. ``--`` still
    works, and so do ``--help`` and the real options.
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if any(_NEGATIVE_NUMBER.fullmatch(a) for a in args):
            ctx.ignore_unknown_options = True
        return super().parse_args(ctx, args)


CSV_COLUMNS = ("kode_desa", "nama_desa", "kode_kec", "nama_kec", "kode_kab", "nama_kab",
               "match", "distance_m")


def _geocoder():
    from geo.service import load_geocoder

    try:
        with session_scope() as session:
            geocoder = load_geocoder(session)
    except Exception as exc:  # noqa: BLE001
        fail(f"tidak dapat membaca basis data / cannot read the database: {exc}")
    if len(geocoder) == 0:
        fail(NO_REGIONS.text())
    return geocoder


@app.command("reverse", cls=NumberFriendlyCommand)
def reverse(
    lat: float = typer.Argument(..., help="latitude, degrees (WGS 84)"),
    lon: float = typer.Argument(..., help="longitude, degrees (WGS 84)"),
    tolerance_m: float = typer.Option(500.0, "--tolerance-m", min=0.0, max=50_000.0),
) -> None:
    """Desa/kecamatan/kabupaten of a point (prints JSON)."""
    from geo.exceptions import InvalidCoordinateError

    geocoder = _geocoder()
    try:
        result = geocoder.reverse(lon, lat, tolerance_m=tolerance_m)
    except InvalidCoordinateError as exc:
        fail(f"koordinat tidak valid / invalid coordinates: {exc}")
    print_json(result.to_dict())


@app.command("search", cls=NumberFriendlyCommand)
def search(
    text: str = typer.Argument(..., help="place name, e.g. 'Bayung Cerik'"),
    kab: str | None = typer.Option(None, "--kab", help="restrict to a kabupaten/kota code"),
    kec: str | None = typer.Option(None, "--kec", help="restrict to a kecamatan code"),
    limit: int = typer.Option(10, "--limit", min=1, max=100),
) -> None:
    """Fuzzy search of desa/kelurahan and kecamatan names (prints JSON)."""
    geocoder = _geocoder()
    try:
        hits = geocoder.search(text, kode_kab=kab, kode_kec=kec, limit=limit)
    except ValueError as exc:
        fail(f"pencarian tidak valid / invalid search: {exc}")
    print_json([h.to_dict() for h in hits])


def _float(value: str | None) -> float:
    try:
        return float((value or "").strip().replace(",", "."))
    except ValueError:
        return math.nan


@app.command("csv", cls=NumberFriendlyCommand)
def csv_cmd(
    input_path: Path = typer.Argument(..., help="CSV with latitude/longitude columns"),
    output: Path = typer.Option(..., "-o", "--output", help="CSV to write"),
    lat_col: str = typer.Option("lat", "--lat-col"),
    lon_col: str = typer.Option("lon", "--lon-col"),
    tolerance_m: float = typer.Option(500.0, "--tolerance-m", min=0.0, max=50_000.0),
) -> None:
    """Add kode_desa … match, distance_m to every row; bad coordinates → match=invalid."""
    from geo.geocode import MATCH_NAMES

    try:
        with input_path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            fields = list(reader.fieldnames or [])
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        fail(f"tidak dapat membaca / cannot read {input_path}: {exc}")
    missing = [c for c in (lat_col, lon_col) if c not in fields]
    if missing:
        fail(f"{input_path.name}: kolom tidak ada / missing column(s) {', '.join(missing)} "
             f"(found: {', '.join(fields)})")
    geocoder = _geocoder()
    lats = np.array([_float(r.get(lat_col)) for r in rows], dtype=np.float64)
    lons = np.array([_float(r.get(lon_col)) for r in rows], dtype=np.float64)
    batch = geocoder.reverse_many(lons, lats, tolerance_m=tolerance_m)
    out_fields = fields + [c for c in CSV_COLUMNS if c not in fields]
    counts: dict[str, int] = {}
    try:
        with output.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=out_fields, extrasaction="ignore")
            writer.writeheader()
            for i, row in enumerate(rows):
                j = int(batch.area_index[i])
                area = geocoder.areas[j] if j >= 0 else None
                name = MATCH_NAMES[int(batch.match[i])]
                counts[name] = counts.get(name, 0) + 1
                dist = float(batch.distance_m[i])
                row.update({
                    "kode_desa": area.kode_desa if area else "",
                    "nama_desa": area.nama_desa if area else "",
                    "kode_kec": area.kode_kec if area else "",
                    "nama_kec": area.nama_kec if area else "",
                    "kode_kab": area.kode_kab if area else "",
                    "nama_kab": area.nama_kab if area else "",
                    "match": name,
                    "distance_m": "" if math.isnan(dist) else f"{dist:.1f}",
                })
                writer.writerow(row)
    except OSError as exc:
        fail(f"tidak dapat menulis / cannot write {output}: {exc}")
    print_json({"rows": len(rows), "output": str(output), "match": counts})
