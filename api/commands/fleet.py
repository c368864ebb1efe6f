"""``siaga fleet|posts import|export`` and ``siaga trackers``: the registry from the command line.

Files may be anywhere on disk; the format comes from the extension (``.csv``, ``.geojson`` /
``.json``) unless ``--format`` says otherwise. An import is validated whole and written in one
transaction, or refused with every bad row's number and reason (exit code 1, nothing written).
The operator's CLI acts for every regency of the installation.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import typer

from api.commands._common import fail, print_json, session_scope, settings

fleet_app = typer.Typer(help="Armada (unit) / fleet: import dan ekspor CSV, GeoJSON.",
                        no_args_is_help=True)
posts_app = typer.Typer(help="Pos dan markas / posts and bases: import dan ekspor.",
                        no_args_is_help=True)
trackers_app = typer.Typer(help="Pelacak GPS dan login MQTT / trackers and MQTT logins.",
                           no_args_is_help=True)

_FORMAT = typer.Option(None, "--format", help="csv atau/or geojson (default: from the extension).")
_REGION = typer.Option(None, "--region", help="Hanya kabupaten/kota ini / only this regency.")


def register(root: typer.Typer) -> None:
    root.add_typer(fleet_app, name="fleet")
    root.add_typer(posts_app, name="posts")
    root.add_typer(trackers_app, name="trackers")


def _read(path: Path, fmt: str | None) -> tuple[str, bytes]:
    from dispatch.registry_fields import MAX_FILE_BYTES
    from dispatch.registry_io import RegistryFileError, format_of

    try:
        fmt = fmt or format_of(path.name)
        if path.stat().st_size > MAX_FILE_BYTES:
            fail(f"{path}: berkas terlalu besar / file too large (> {MAX_FILE_BYTES} bytes)")
        return fmt, path.read_bytes()
    except RegistryFileError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{path}: {exc.strerror or exc}")
    raise AssertionError("unreachable")


def _import(kind: str, path: Path, fmt: str | None) -> None:
    from datetime import UTC, datetime

    from dispatch import posts, registry
    from dispatch.exceptions import DispatchError
    from dispatch.recommend_service import configured_profiles
    from dispatch.registry_io import parse_posts, parse_units
    from dispatch.scoping import EVERYTHING
    from geo.routing.profiles import load_profiles

    fmt, data = _read(path, fmt)
    cfg = settings()
    try:
        now = datetime.now(UTC)
        with session_scope(cfg) as session:
            if kind == "posts":
                report = posts.import_posts(session, parse_posts(data, fmt), scope=EVERYTHING,
                                            actor="cli", now=now)
            else:
                profiles = configured_profiles(load_profiles(cfg.profiles_path))
                report = registry.import_units(session, parse_units(data, fmt), scope=EVERYTHING,
                                               actor="cli", now=now, profiles=set(profiles))
    except DispatchError as exc:
        fail(str(exc))
    print_json({**asdict(report), "total": report.total, "file": str(path)})


def _export(kind: str, out: Path | None, fmt: str, region: str | None) -> None:
    from dispatch import posts, registry
    from dispatch.registry_export import posts_csv, posts_geojson, units_csv, units_geojson
    from dispatch.scoping import EVERYTHING
    from geo.types import LonLat

    with session_scope() as session:
        post_rows = posts.post_rows(session, scope=EVERYTHING, kode_kab=region)
        if kind == "posts":
            text = posts_csv(post_rows) if fmt == "csv" else posts_geojson(post_rows)
        else:
            rows = registry.unit_rows(session, scope=EVERYTHING, kode_kab=region)
            points = {(p.kode_kab, p.name): LonLat(p.lon, p.lat) for p in post_rows}
            text = units_csv(rows) if fmt == "csv" else units_geojson(rows, points)
    if out is None:
        typer.echo(text, nl=False)
    else:
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            fail(f"{out}: {exc.strerror or exc}")
        typer.echo(f"wrote {out}", err=True)


def _out_format(out: Path | None, fmt: str | None, default: str) -> str:
    from dispatch.registry_io import RegistryFileError, format_of

    if fmt:
        if fmt not in ("csv", "geojson"):
            fail(f"format {fmt!r}: csv atau/or geojson")
        return fmt
    if out is None:
        return default
    try:
        return format_of(out.name)
    except RegistryFileError as exc:
        fail(str(exc))
    raise AssertionError("unreachable")


@fleet_app.command("import")
def fleet_import(path: Path = typer.Argument(..., help="CSV or GeoJSON fleet file."),
                 fmt: str | None = _FORMAT) -> None:
    """Import units (call sign, agency, profile, capabilities, home post, crew, tracker)."""
    _import("units", path, fmt)


@fleet_app.command("export")
def fleet_export(out: Path | None = typer.Argument(None, help="File to write (default: stdout)."),
                 fmt: str | None = _FORMAT, region: str | None = _REGION) -> None:
    """Export units as CSV (default) or GeoJSON."""
    _export("units", out, _out_format(out, fmt, "csv"), region)


@posts_app.command("import")
def posts_import(path: Path = typer.Argument(..., help="CSV or GeoJSON posts file."),
                 fmt: str | None = _FORMAT) -> None:
    """Import posts and bases (name, agency, kind, location, address)."""
    _import("posts", path, fmt)


@posts_app.command("export")
def posts_export(out: Path | None = typer.Argument(None, help="File to write (default: stdout)."),
                 fmt: str | None = _FORMAT, region: str | None = _REGION) -> None:
    """Export posts as GeoJSON (default) or CSV."""
    _export("posts", out, _out_format(out, fmt, "geojson"), region)


@trackers_app.command("list")
def trackers_list(unknown: bool = typer.Option(False, help="Only unknown trackers seen by "
                                                           "ingest, waiting to be registered.")
                  ) -> None:
    """List trackers (registered, revoked, unknown) as JSON."""
    from dispatch import trackers
    from dispatch.scoping import EVERYTHING

    with session_scope() as session:
        items = trackers.list_trackers(session, scope=EVERYTHING,
                                       registered=False if unknown else None)
    print_json([asdict(t) for t in items])


@trackers_app.command("register")
def trackers_register(device_id: str = typer.Argument(..., help="IMEI or tracker id."),
                      region: str = typer.Option(..., "--region", help="Regency code (51.06)."),
                      protocol: str | None = typer.Option(None, help="gt06, teltonika, osmand, "
                                                                     "nmea, owntracks, native."),
                      unit_id: int | None = typer.Option(None, "--unit", help="Unit id.")) -> None:
    """Register a tracker and issue its MQTT login (the password is printed once)."""
    from api import registry_accounts
    from dispatch.exceptions import DispatchError
    from dispatch.scoping import EVERYTHING

    cfg = settings()
    accounts = registry_accounts.tracker_accounts(cfg)
    try:
        with session_scope(cfg) as session:
            info, password = registry_accounts.register(
                session, device_id, kode_kab=region, scope=EVERYTHING, actor="cli",
                accounts=accounts, protocol=protocol, unit_id=unit_id)
    except DispatchError as exc:
        fail(str(exc))
    print_json({"tracker": asdict(info), "mqtt_username": device_id if password else None,
                "mqtt_password": password, "topic": f"siaga/v1/pos/{device_id}"})


@trackers_app.command("revoke")
def trackers_revoke(device_id: str = typer.Argument(..., help="IMEI or tracker id.")) -> None:
    """Revoke a tracker: remove its MQTT login and take it off its unit."""
    from api import registry_accounts
    from dispatch.exceptions import DispatchError
    from dispatch.scoping import EVERYTHING

    cfg = settings()
    try:
        with session_scope(cfg) as session:
            info = registry_accounts.revoke(session, device_id, scope=EVERYTHING, actor="cli",
                                            accounts=registry_accounts.tracker_accounts(cfg))
    except DispatchError as exc:
        fail(str(exc))
    print_json(asdict(info))
