"""``siaga roads``: build, list and export the compiled road networks used for routing."""

from __future__ import annotations

from pathlib import Path

import typer

from api.commands._common import fail, print_json, services, session_scope, settings
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
    clip: bool = typer.Option(
        False, "--clip",
        help="Keep only the roads of REGION (its boundary from `siaga regions import`, grown by "
             "--clip-buffer-m): for a province or island extract (Geofabrik)."),
    clip_buffer_m: float = typer.Option(3000.0, "--clip-buffer-m", min=0.0, max=50_000.0,
                                        help="Metres added around the boundary when clipping."),
) -> None:
    """Build (or reuse) the routing index of REGION for each vehicle profile."""
    from geo.routing.profiles import load_profiles
    from geo.routing.store import build_networks

    cfg = settings()
    clipped = None
    if clip:
        path, clipped = _clip(path, region, cfg.roads_dir, clip_buffer_m)
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
    out = report.to_dict()
    if clipped is not None:
        out["clip"] = clipped
    print_json(out)


def _clip(path: Path, region: str, roads_dir: Path, buffer_m: float) -> tuple[Path, dict]:
    """Cut REGION's roads out of an extract into ``<roads_dir>/<region>/clipped.osm.pbf``."""
    import shapely
    from shapely.geometry import shape

    from geo.routing.clip import clip_extract
    from geo.service import region_geojson

    if not path.name.lower().endswith((".osm", ".osm.bz2", ".osm.pbf", ".pbf", ".xml")):
        fail(f"--clip membutuhkan berkas OSM (.osm, .osm.bz2, .osm.pbf) / --clip needs an OSM "
             f"file (.osm, .osm.bz2, .osm.pbf), not {path.name}")
    try:
        with session_scope() as session:
            features = region_geojson(session, region, "kecamatan")["features"]
    except GeoError as exc:
        fail(f"{exc}; --clip memakai batas wilayah dari `siaga regions import` / --clip uses the "
             "boundary loaded by `siaga regions import`")
    boundary = shapely.union_all([shape(f["geometry"]) for f in features])
    try:
        report = clip_extract(path, boundary, roads_dir / region / "clipped.osm.pbf",
                              buffer_m=buffer_m)
    except GeoError as exc:
        fail(str(exc))
    return report.target, {"source": str(path), **report.to_dict()}


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
