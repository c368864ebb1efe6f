"""``siaga route``: road ETAs and routes from the compiled road networks, printed as JSON."""

from __future__ import annotations

from typing import Any

import typer

from api.commands._common import fail, print_json, services
from geo.exceptions import GeoError
from geo.types import LonLat

app = typer.Typer(help="ETA dan rute jalan / road ETAs and routes.", no_args_is_help=True)


def parse_lat_lon(text: str) -> LonLat:
    """``"LAT,LON"`` (degrees) to a checked :class:`LonLat`."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2:
        raise typer.BadParameter(f"expected LAT,LON, got {text!r}")
    try:
        return LonLat.checked(float(parts[1]), float(parts[0]))
    except (ValueError, GeoError) as exc:
        raise typer.BadParameter(f"{text!r}: {exc}") from None


def _index(region: str, profile: str) -> Any:
    return services().road_networks.get(region, profile)


@app.command("table")
def table(
    region: str = typer.Option(..., "--region", help="Kemendagri kabupaten/kota code."),
    profile: str = typer.Option(..., "--profile", help="Vehicle profile."),
    to: str = typer.Option(..., "--to", help="Destination LAT,LON (the incident)."),
    origins: list[str] = typer.Option(..., "--from", help="Origin LAT,LON (repeatable)."),
    horizon_s: float | None = typer.Option(None, "--horizon-s", help="Search horizon, seconds."),
) -> None:
    """ETA from every --from position to the --to position (one search)."""
    target = parse_lat_lon(to)
    points = [parse_lat_lon(o) for o in origins]
    try:
        etas = _index(region, profile).table(points, target, horizon_s=horizon_s)
    except GeoError as exc:
        fail(str(exc))
    print_json(
        {
            "region": region,
            "profile": profile,
            "destination": {"lat": target.lat, "lon": target.lon},
            "results": [
                {
                    **e.to_dict(),
                    "origin": {
                        "lat": points[e.origin_index].lat,
                        "lon": points[e.origin_index].lon,
                    },
                }
                for e in etas
            ],
        }
    )


@app.command("path")
def path(
    region: str = typer.Option(..., "--region", help="Kemendagri kabupaten/kota code."),
    profile: str = typer.Option(..., "--profile", help="Vehicle profile."),
    origin: str = typer.Option(..., "--from", help="Origin LAT,LON."),
    to: str = typer.Option(..., "--to", help="Destination LAT,LON."),
) -> None:
    """Fastest route as a GeoJSON Feature with turn-by-turn steps."""
    start, end = parse_lat_lon(origin), parse_lat_lon(to)
    try:
        route = _index(region, profile).route(start, end)
    except GeoError as exc:
        fail(str(exc))
    feature = route.to_geojson()
    feature["properties"].update({"region": region, "profile": profile})
    print_json(feature)
