"""``siaga dispatch``: seed agencies/SLA/fleets, recommend units, run the escalation check."""

from __future__ import annotations

import typer

from api.commands._common import fail, print_json, services, session_scope, settings

app = typer.Typer(help="Dispatch: OPD, SLA, armada / agencies, SLA, fleet.", no_args_is_help=True)


@app.command("seed")
def seed(
    region: list[str] = typer.Option(None, "--region", help="Region code(s); default: all."),
    fleet: bool = typer.Option(True, help="Also load the illustrative fleet files."),
) -> None:
    """Load agencies, SLA rules and (illustrative) fleets from the YAML files; idempotent."""
    from dataclasses import asdict

    from dispatch.config import load_config
    from dispatch.exceptions import DispatchError
    from dispatch.seed_service import seed as run_seed

    cfg = settings()
    try:
        with session_scope(cfg) as session:
            reports = run_seed(session, load_config(cfg.agencies_path), regions=region or None,
                               with_fleet=fleet)
    except DispatchError as exc:
        fail(str(exc))
    print_json([asdict(r) for r in reports])


@app.command("recommend")
def recommend(incident_id: int = typer.Argument(..., help="Incident id."),
              limit: int = typer.Option(5, help="Units per agency.")) -> None:
    """Print the units recommended for an incident, ranked by road ETA, as JSON."""
    from dispatch.exceptions import DispatchError
    from dispatch.recommend_service import agency_recommendation_dict
    from dispatch.recommend_service import recommend as run
    from dispatch.scoping import EVERYTHING
    from geo.exceptions import GeoError

    cfg = settings()
    root = services(cfg)
    nets = root.road_networks
    try:
        with session_scope(cfg) as session:
            recs = run(session, incident_id, config=root.dispatch_config, road_networks=nets,
                       profiles=nets.profiles, limit=limit, scope=EVERYTHING)  # the operator
    except (DispatchError, GeoError) as exc:
        fail(str(exc))
    print_json({"incident_id": incident_id,
                "agencies": [agency_recommendation_dict(a) for a in recs]})


@app.command("escalate")
def escalate(kode_kab: str | None = typer.Option(None, help="Only this region.")) -> None:
    """Escalate agencies that missed their acknowledgement time; print the escalations."""
    from dispatch.escalation_service import check_escalations
    from dispatch.scoping import EVERYTHING

    cfg = settings()
    root = services(cfg)
    nets = root.road_networks
    with session_scope(cfg) as session:
        result = check_escalations(session, config=root.dispatch_config, kode_kab=kode_kab,
                                   profiles=nets.profiles, road_networks=nets,
                                   scope=EVERYTHING)  # the operator: every regency
    print_json([e.as_dict() for e in result.value])
