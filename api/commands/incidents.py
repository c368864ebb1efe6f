"""``siaga incidents``: record calls from the command line (scripted drills)."""

from __future__ import annotations

import typer

from api.commands._common import fail, print_json, services, session_scope, settings
from api.readiness import NO_REGIONS
from dispatch.scoping import EVERYTHING

app = typer.Typer(help="Kejadian / incidents.", no_args_is_help=True)


@app.command("create")
def create(
    category: str = typer.Option(..., help="Category, e.g. fire, flood, landslide, medical."),
    lat: float | None = typer.Option(None, help="Latitude (WGS 84 degrees)."),
    lon: float | None = typer.Option(None, help="Longitude (WGS 84 degrees)."),
    place: str | None = typer.Option(None, help="Place name, e.g. 'Kelurahan Suryatmajan'."),
    kode_kab: str | None = typer.Option(None, help="Region code, e.g. 34.71."),
    description: str = typer.Option("", help="What the caller reports."),
    caller: str | None = typer.Option(None, help="Caller phone number."),
    channel: str = typer.Option("phone_112", help="phone_112, complaint_line, social_media..."),
    triage: bool = typer.Option(True, help="Triage right away with the rules."),
    actor: str = typer.Option("cli", help="Name written into the audit log."),
    reveal_caller: bool = typer.Option(False, help="Print the caller number unmasked."),
) -> None:
    """Create an incident (by --lat/--lon or --place) and print it as JSON."""
    from dispatch import incident_service as incidents
    from dispatch import schemas
    from dispatch.exceptions import DispatchError
    from geo.exceptions import GeoError
    from geo.types import LonLat

    if (lat is None) != (lon is None):
        fail("--lat and --lon go together")
    if lat is None and not place and not kode_kab:
        fail("give --lat/--lon, --place, or at least --kode-kab")
    cfg = settings()
    root = services(cfg)
    config = root.dispatch_config
    try:
        with session_scope(cfg) as session:
            result = incidents.create_incident(
                session, config=config, geocoder=root.geocoder.get(session), category=category,
                actor=actor, kode_kab=kode_kab,
                location=LonLat(lon, lat) if lon is not None and lat is not None else None,
                place=place, description=description, channel=channel, caller_phone=caller,
                scope=EVERYTHING)
            incident = result.value
            if triage:
                incidents.triage_incident(session, incident.id, config=config, actor=actor,
                                          scope=EVERYTHING)
            out = schemas.incident_out(incident, reveal_caller=reveal_caller)
            out["agencies"] = [schemas.incident_agency_out(ia, a)
                               for ia, a in incidents.incident_agencies(session, incident.id)]
    except (DispatchError, GeoError) as exc:
        with session_scope(cfg) as session:
            no_regions = len(root.geocoder.get(session)) == 0
        fail(f"{exc} {NO_REGIONS.text()}" if no_regions else str(exc))
    print_json(out)
