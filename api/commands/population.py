"""``siaga population import FILE``: population figures per kabupaten, kecamatan and desa
(``level,kode,kode_bps,nama,penduduk,laki_laki,perempuan,tahun,sumber``), checked whole before
anything is written; coverage weighs desa with them."""

from __future__ import annotations

from pathlib import Path

import typer

from api.commands._common import fail, print_json, session_scope

app = typer.Typer(help="Data penduduk / population figures.", no_args_is_help=True)


@app.command("import")
def import_file(
    path: Path = typer.Argument(..., help="Population CSV file."),
    region: str | None = typer.Option(None, "--region",
                                      help="Only accept rows of this kabupaten/kota code."),
) -> None:
    """Import (or replace, per code and year) the figures of a population CSV."""
    from geo.population import PopulationFileError, parse_population_csv
    from geo.population_store import import_population

    try:
        rows = parse_population_csv(path.read_bytes())
    except OSError as exc:
        fail(f"berkas tidak dapat dibaca / cannot read {path}: {exc.strerror or exc}")
    except PopulationFileError as exc:
        fail(f"{path}: {exc}")
    if region is not None:
        foreign = sorted({r.kode for r in rows if r.kode_kab != region})
        if foreign:
            fail(f"{path}: kode di luar {region} / codes outside {region}: "
                 f"{', '.join(foreign[:5])}")
    with session_scope() as session:
        written = import_population(session, rows)
    print_json({"file": str(path), "rows": written,
                "regions": sorted({r.kode_kab for r in rows})})
