"""``siaga analytics``: significant hotspots, time patterns and emerging hot spots for planners,
printed as JSON (read-only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import typer

from api.commands._common import fail, print_json, session_scope
from dispatch.scoping import EVERYTHING

app = typer.Typer(
    help="Analitik perencana / planner analytics (hotspots, time, emerging).",
    no_args_is_help=True,
)


def _filter(date_from: str | None, date_to: str | None, kind: str | None,
            category: str | None, agency: str | None) -> Any:
    from dispatch.analytics_service import IncidentFilter

    def parse(value: str | None, name: str) -> datetime | None:
        if value is None:
            return None
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise typer.BadParameter(f"{name}: expected an ISO 8601 time, got {value!r}") from None

    return IncidentFilter(start=parse(date_from, "--from"), end=parse(date_to, "--to"),
                          kind=kind, category=category, agency=agency, scope=EVERYTHING)


_REGION = typer.Option(..., "--region", help="Kemendagri kabupaten/kota code.")
_FROM = typer.Option(None, "--from", help="Start, ISO 8601 with timezone (inclusive).")
_TO = typer.Option(None, "--to", help="End, ISO 8601 with timezone (exclusive).")
_KIND = typer.Option(None, "--kind", help="emergency or complaint.")
_CATEGORY = typer.Option(None, "--category", help="Incident category.")
_AGENCY = typer.Option(None, "--agency", help="Agency (OPD) code.")


@app.command("hotspots")
def hotspots(
    region: str = _REGION, date_from: str | None = _FROM, date_to: str | None = _TO,
    kind: str | None = _KIND, category: str | None = _CATEGORY, agency: str | None = _AGENCY,
    grid_m: float | None = typer.Option(None, "--grid-m", help="Grid cells of this size (m) "
                                        "instead of desa polygons."),
    permutations: int = typer.Option(999, "--permutations"),
    seed: int = typer.Option(112, "--seed"),
) -> None:
    """Getis-Ord Gi* hot and cold spots (999 seeded permutations, FDR) per desa or grid cell."""
    from dispatch import analytics_service as svc
    from dispatch.exceptions import DispatchError

    try:
        flt = _filter(date_from, date_to, kind, category, agency)
        with session_scope() as session:
            if grid_m is None:
                res = svc.desa_hotspots(session=session, kode_kab=region, flt=flt,
                                        permutations=permutations, seed=seed)
                rows = [{"kode_desa": k, "nama_desa": n, "count": int(c), "value": float(v),
                         "z": float(z), "p": float(p), "gi_bin": int(b)}
                        for k, n, c, v, z, p, b in zip(
                            res.desa.kode_desa, res.desa.nama_desa, res.desa.count, res.values,
                            res.gi.z, res.gi.p_sim, res.gi.gi_bin, strict=True)]
                print_json({"region": region, "measure": res.measure, "desa": rows})
                return
            g = svc.grid_hotspots(session=session, kode_kab=region, flt=flt, cell_m=grid_m,
                                  permutations=permutations, seed=seed)
            cells = [{"lon": float(x), "lat": float(y), "count": int(c), "z": float(z),
                      "gi_bin": int(b)}
                     for x, y, c, z, b in zip(g.lon, g.lat, g.grid.count, g.gi.z, g.gi.gi_bin,
                                              strict=True) if b != 0]
            print_json({"region": region, "cell_m": grid_m, "significant_cells": cells})
    except DispatchError as exc:
        fail(str(exc))


@app.command("time")
def time_patterns(
    region: str = _REGION, date_from: str | None = _FROM, date_to: str | None = _TO,
    kind: str | None = _KIND, category: str | None = _CATEGORY, agency: str | None = _AGENCY,
    tz: str = typer.Option("Asia/Jakarta", "--tz", help="IANA time zone of the region."),
) -> None:
    """Hour-of-day x day-of-week counts and monthly counts per category."""
    from dispatch import analytics_service as svc
    from dispatch.exceptions import DispatchError

    try:
        flt = _filter(date_from, date_to, kind, category, agency)
        with session_scope() as session:
            matrix = svc.hour_of_week(session=session, kode_kab=region, flt=flt, tz=tz)
            months, series = svc.monthly_by_category(session=session, kode_kab=region, flt=flt,
                                                     tz=tz)
    except DispatchError as exc:
        fail(str(exc))
    print_json({"region": region, "tz": tz, "hour_of_week": matrix.tolist(), "months": months,
                "monthly_by_category": series})


@app.command("emerging")
def emerging(
    region: str = _REGION, date_from: str | None = _FROM, date_to: str | None = _TO,
    kind: str | None = _KIND, category: str | None = _CATEGORY, agency: str | None = _AGENCY,
    step: str = typer.Option("month", "--step", help="week, month or quarter."),
    tz: str = typer.Option("Asia/Jakarta", "--tz"),
) -> None:
    """Emerging hot spot category per desa (new, consecutive, intensifying, ...)."""
    from dispatch import analytics_service as svc
    from dispatch.exceptions import DispatchError

    try:
        flt = _filter(date_from, date_to, kind, category, agency)
        with session_scope() as session:
            d, steps, res = svc.desa_emerging_hotspots(session=session, kode_kab=region,
                                                       flt=flt, step=step, tz=tz)
    except DispatchError as exc:
        fail(str(exc))
    print_json({"region": region, "steps": steps,
                "desa": [{"kode_desa": k, "nama_desa": n, "category": c}
                         for k, n, c in zip(d.kode_desa, d.nama_desa, res.category,
                                            strict=True)]})


@app.command("coverage")
def coverage(
    region: str = _REGION, agency: str | None = _AGENCY,
    profile: str = typer.Option("fire_truck", "--profile", help="Vehicle profile."),
    sla_minutes: float = typer.Option(15.0, "--sla-minutes", help="On-scene limit (minutes)."),
    spacing_m: float = typer.Option(250.0, "--spacing-m", help="Demand grid spacing (m)."),
    gaps_only: bool = typer.Option(False, "--gaps", help="Print only the gap list."),
) -> None:
    """Share of every desa's population and area within the SLA minutes of the posts (road ETA,
    or straight-line estimates without a road network), nearest post, gap list."""
    from dataclasses import asdict

    from api.commands._common import services
    from dispatch import coverage_service
    from dispatch.exceptions import DispatchError
    from dispatch.recommend_service import configured_profiles, profile_speeds
    from dispatch.scope import Scope

    svc = services()
    speeds = profile_speeds(configured_profiles(None, svc.road_networks))
    try:
        with session_scope() as session:
            rep = coverage_service.post_coverage(
                session, svc.road_networks, speeds, scope=Scope.everything(), kode_kab=region,
                agency=agency, profile=profile, sla_minutes=sla_minutes, spacing_m=spacing_m)
    except DispatchError as exc:
        fail(str(exc))
    out = asdict(rep)
    if gaps_only:
        out = {k: out[k] for k in ("kode_kab", "agency", "profile", "sla_minutes", "eta_kind",
                                   "population_rule", "gaps")}
    else:
        out.pop("gaps")
    print_json(out)
