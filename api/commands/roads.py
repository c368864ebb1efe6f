"""``siaga roads``: build, list and export the compiled road networks used for routing."""

from __future__ import annotations

from pathlib import Path

import typer

from api.commands._common import fail, print_json, services, settings
from geo.exceptions import GeoError

app = typer.Typer(
    help="Jaringan jalan untuk rute / road networks for routing.", no_args_is_help=True
)


@app.command("import")
def import_roads(
    path: Path = typer.Argument(..., help="Roads file: .osm, .osm.bz2, .osm.pbf or .graphml."),
    region: str = typer.Option(..., "--region", help="Kemendagri kabupaten/kota code, e.g. 34.71."),
    profile: list[str] = typer.Option(  # noqa: B006 - typer needs a list default
        [], "--profile", help="Vehicle profile to build (repeatable); default: all profiles."
    ),
) -> None:
    """Build (or reuse) the routing index of REGION for each vehicle profile."""
    from geo.routing.profiles import load_profiles
    from geo.routing.store import build_networks

    cfg = settings()
    try:
        report = build_networks(
            path,
            region,
            cfg.roads_dir,
            profiles=load_profiles(cfg.profiles_path),
            only=profile or None,
        )
    except GeoError as exc:
        fail(str(exc))
    print_json(report.to_dict())


@app.command("list")
def list_roads() -> None:
    """List the routing indexes built so far (region, profile, size, source hash)."""
    print_json(services().road_networks.listing(with_files=True))


@app.command("export")
def export_roads(
    region: str = typer.Option(..., "--region", help="Kemendagri kabupaten/kota code."),
    profile: str = typer.Option(..., "--profile", help="Vehicle profile."),
    output: Path = typer.Option(..., "-o", "--output", help="CSV file to write."),
) -> None:
    """Write every directed edge used for routing as CSV (u, v, coordinates, length_m, travel_s)."""
    from geo.routing.export import write_edges_csv

    nets = services().road_networks
    try:
        index = nets.get(region, profile)
        rows = write_edges_csv(index, output)
    except (GeoError, OSError) as exc:
        fail(str(exc))
    typer.echo(f"{rows} edges written to {output}")
