"""``siaga regions``: import administrative boundaries into PostGIS and list what is loaded."""

from __future__ import annotations

from pathlib import Path

import typer

from api.commands._common import fail, print_json, session_scope, settings

app = typer.Typer(help="Batas wilayah (desa/kecamatan/kabupaten) / administrative boundaries.",
                  no_args_is_help=True)

PILOT_FOLDERS = ("kota-yogyakarta", "bangli", "balikpapan")


def _resolve(path: Path, kecamatan: Path | None, kabupaten: Path | None
             ) -> tuple[Path, Path | None, Path | None]:
    """A region folder means its desa/kecamatan/kabupaten.geojson (the latter two if present)."""
    if path.is_dir():
        desa = path / "desa.geojson"
        if not desa.exists():
            fail(f"folder {path} has no desa.geojson / folder tanpa desa.geojson")
        if kecamatan is None and (path / "kecamatan.geojson").exists():
            kecamatan = path / "kecamatan.geojson"
        if kabupaten is None and (path / "kabupaten.geojson").exists():
            kabupaten = path / "kabupaten.geojson"
        return desa, kecamatan, kabupaten
    return path, kecamatan, kabupaten


def _import(paths: list[tuple[Path, Path | None, Path | None]], *, province: str | None = None,
            kabupaten: list[str] | None = None) -> None:
    """Read and validate every file (and chosen regency) first, then write all in one
    transaction: an error anywhere leaves the database as it was."""
    from geo.exceptions import RegionImportError
    from geo.national import read_chosen
    from geo.service import write_region

    try:
        datas = [
            data
            for desa, kec, kab in paths
            for data in read_chosen(desa, kecamatan_path=kec, kabupaten_path=kab,
                                    province=province, kabupaten=kabupaten or ())
        ]
    except RegionImportError as exc:
        fail(f"impor gagal, tidak ada yang ditulis / import failed, nothing written: {exc}")
    try:
        with session_scope() as session:
            reports = [write_region(session, data) for data in datas]
    except Exception as exc:  # noqa: BLE001 - database unreachable etc.
        fail(f"impor gagal / import failed: {type(exc).__name__}: {exc}")
    print_json([r.to_dict() for r in reports])


@app.command("import")
def import_cmd(
    path: Path = typer.Argument(
        ..., help="desa file (GeoJSON/GeoPackage/Shapefile) or folder; may hold many regencies"),
    province: str | None = typer.Option(
        None, "--province", "--provinsi",
        help="Import every kabupaten/kota of this province code (e.g. 51) from a national file."),
    kabupaten: list[str] = typer.Option(  # noqa: B006 - typer needs a list default
        [], "--kabupaten", "--kab",
        help="Import this kabupaten/kota code (e.g. 51.06; repeatable) from a national file."),
    kecamatan_file: Path | None = typer.Option(None, "--kecamatan-file",
                                               help="kecamatan polygons"),
    kabupaten_file: Path | None = typer.Option(None, "--kabupaten-file",
                                               help="kabupaten/kota polygons"),
) -> None:
    """Import (or replace) kabupaten/kota boundaries; one transaction, nothing half-imported."""
    _import([_resolve(path, kecamatan_file, kabupaten_file)], province=province,
            kabupaten=kabupaten)


@app.command("import-pilot")
def import_pilot() -> None:
    """Import the three pilot regions from the data folder (one transaction)."""
    data_dir = settings().data_dir
    _import([_resolve(data_dir / name, None, None) for name in PILOT_FOLDERS])


@app.command("list")
def list_cmd() -> None:
    """Loaded regions with kecamatan / desa counts."""
    from geo.service import list_regions

    try:
        with session_scope() as session:
            regions = list_regions(session)
    except Exception as exc:  # noqa: BLE001
        fail(f"tidak dapat membaca basis data / cannot read the database: {exc}")
    print_json([r.to_dict() for r in regions])
