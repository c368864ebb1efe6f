"""``siaga drill``: run a scripted drill scenario and write its readiness report; purge drills."""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import typer
import yaml

from api.commands._common import fail, print_json, session_scope, settings
from dispatch.scoping import EVERYTHING

app = typer.Typer(help="Latihan / drills: scenarios, readiness reports, purge.",
                  no_args_is_help=True)
#: The packaged example scenario (Kabupaten Bangli, 51.06).
EXAMPLE = Path(__file__).resolve().parents[2] / "dispatch" / "data" / "drills" / "bangli.yaml"
DRILL_USER = "siaga-drill"


def load_scenario(path: Path) -> Any:
    from dispatch.drill_scenario import parse_scenario

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        fail(f"cannot read scenario {path}: {exc}")
    return parse_scenario(doc)


def drill_token(cfg: Any, kode_kab: str) -> str:
    """A one-hour API token of the drill dispatcher ``siaga-drill`` (created on first use,
    limited to the scenario's regency)."""
    from api.auth import service as auth
    from api.auth.exceptions import UserNotFoundError

    with session_scope(cfg) as session:
        try:
            auth.get_user(session=session, username=DRILL_USER, scope=EVERYTHING)
        except UserNotFoundError:
            auth.create_user(session=session, username=DRILL_USER,
                             password=secrets.token_urlsafe(24), role="dispatcher",
                             display_name="Latihan / drill runner", kode_kabs=[kode_kab],
                             scope=EVERYTHING)
        return auth.issue_api_token(session=session, username=DRILL_USER, name="drill-run",
                                    ttl_s=3600, scope=EVERYTHING).token


def drill_fleet(cfg: Any, kode_kab: str) -> list[dict[str, Any]]:
    """The regency's units with a tracker, at their last position (else their post)."""
    from dispatch.assignment_service import list_units
    from dispatch.recommend_service import unit_positions

    with session_scope(cfg) as session:
        units = [u for u, _a in list_units(session, kode_kab=kode_kab, scope=EVERYTHING)
                 if u.device_id]
        where = unit_positions(session, units)
        return [{"unit_id": u.id, "device_id": u.device_id, "call_sign": u.call_sign,
                 "lon": where[u.id][0].lon, "lat": where[u.id][0].lat}
                for u in units if where[u.id][0] is not None and u.status == "available"]


@app.command("run")
def run(
    file: Path = typer.Argument(EXAMPLE, help="Scenario YAML (default: the Bangli example)."),
    speed: float = typer.Option(60.0, min=1.0, max=600.0,
                                help="Scenario seconds per real second."),
    api_url: str = typer.Option(None, help="Running API (default http://SIAGA_API_HOST:PORT)."),
    token: str = typer.Option(None, envvar="SIAGA_DRILL_TOKEN",
                              help="API token (default: a 1-hour token of user siaga-drill)."),
    report_dir: Path = typer.Option(None, help="Where to write the report (default state dir)."),
    timeout: float = typer.Option(60.0, help="Real seconds to wait for arrivals at the end."),
    strict: bool = typer.Option(False, help="Exit 1 when an expected outcome is not met."),
) -> None:
    """Play a drill scenario against the running platform; write the readiness report."""
    from api.drill_report import render_markdown
    from api.drill_runner import DrillRun
    from dispatch.exceptions import DispatchValidationError

    cfg = settings()
    try:
        scenario = load_scenario(file)
    except DispatchValidationError as exc:
        fail(str(exc))
    fleet = drill_fleet(cfg, scenario.kode_kab)
    if not fleet:
        fail(f"no available unit with a tracker in {scenario.kode_kab}; run siaga dispatch seed")
    out = report_dir or cfg.state_dir / "drills"
    out.mkdir(parents=True, exist_ok=True)
    runner = DrillRun(scenario, api_url=api_url or f"http://{cfg.api_host}:{cfg.api_port}",
                      token=token or drill_token(cfg, scenario.kode_kab),
                      mqtt_url=cfg.mqtt_url, fleet=fleet, speed=speed, work_dir=out,
                      timeout_s=timeout, say=lambda s: typer.echo(f"[drill] {s}"))
    try:
        report = runner.run()
    except (RuntimeError, OSError, httpx.HTTPError) as exc:  # platform down or refusing
        fail(f"drill stopped: {exc!r}; is the platform running (siaga serve, siaga ingest, "
             "the broker)?")
    stem = f"drill-{scenario.kode_kab}-{datetime.now():%Y%m%d-%H%M%S}"
    (out / f"{stem}.json").write_text(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    (out / f"{stem}.md").write_text(render_markdown(report), encoding="utf-8")
    typer.echo(f"[drill] {report.met} met / terpenuhi, {report.not_met} not met / "
               f"tidak terpenuhi; report: {out / stem}.md (.json)")
    if strict and report.not_met:
        raise typer.Exit(1)


@app.command("purge")
def purge(
    region: str = typer.Option(..., "--region", help="Regency code, e.g. 51.06."),
    exercise: int = typer.Option(None, help="Only this exercise's drills."),
    before: datetime = typer.Option(None, help="Only drills received before (UTC)."),
) -> None:
    """Delete drill incidents with their assignments; the audit log is kept (docs/drills.md)."""
    from dataclasses import asdict
    from datetime import UTC

    from dispatch.drill import purge_drills
    from dispatch.exceptions import DispatchError
    from dispatch.scope import Scope

    if before is not None and before.tzinfo is None:
        before = before.replace(tzinfo=UTC)
    try:
        with session_scope() as session:
            report = purge_drills(session, scope=Scope.everything(), kode_kab=region,
                                  actor="cli:drill-purge", exercise_id=exercise, before=before)
    except DispatchError as exc:
        fail(str(exc))
    print_json(asdict(report))
