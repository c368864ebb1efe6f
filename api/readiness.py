"""Is this installation set up? Sentences that say what to run, instead of SQL errors.

A newcomer who runs a command before ``siaga db upgrade``, before importing boundaries or before
building a road network gets one of the :class:`Notice` s below (Bahasa Indonesia, then English),
from the CLI (:func:`require_database`, :func:`explain`), the API's error handler
(:func:`explain`) and ``/api/v1/health`` (:func:`setup_notices_async`).

* ``database_unreachable`` and ``database_not_migrated`` stop a command (exit 1) and make the
  health check answer 503;
* ``database_outdated`` (migrations pending), ``no_regions`` and ``no_road_network`` are
  warnings: the platform works (without a road network, ETAs are straight-line estimates).
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

#: Tables every command relies on; the first to be missing means "not migrated".
CORE_TABLES = ("alembic_version", "region", "app_user")


@dataclass(frozen=True)
class Notice:
    """One setup problem: a stable code and a sentence in each language."""

    code: str
    message: str
    message_en: str
    blocking: bool

    def text(self) -> str:
        return f"{self.message} / {self.message_en}"

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "message_en": self.message_en}


NOT_MIGRATED = Notice(
    "database_not_migrated",
    "Basis data belum dimigrasi: jalankan `siaga db upgrade`",
    "Database not migrated: run `siaga db upgrade`", True)
OUTDATED = Notice(
    "database_outdated",
    "Skema basis data belum versi terbaru: jalankan `siaga db upgrade`",
    "Database schema is behind this version of Siaga: run `siaga db upgrade`", False)
NO_REGIONS = Notice(
    "no_regions",
    "Belum ada wilayah yang dimuat: jalankan `siaga regions import <berkas desa> --kabupaten "
    "<kode>` (lihat docs/onboarding.md)",
    "No region loaded yet: run `siaga regions import <desa file> --kabupaten <code>` "
    "(see docs/onboarding.md)", False)


def unreachable(where: str) -> Notice:
    return Notice(
        "database_unreachable",
        f"Basis data tidak dapat dihubungi ({where}): periksa SIAGA_DATABASE_URL dan pastikan "
        "PostgreSQL berjalan",
        f"Cannot connect to the database ({where}): check SIAGA_DATABASE_URL and that PostgreSQL "
        "is running", True)


def no_road_network(kode_kabs: Iterable[str]) -> Notice:
    codes = ", ".join(sorted(kode_kabs))
    return Notice(
        "no_road_network",
        f"Belum ada jaringan jalan untuk {codes}: ETA berupa perkiraan garis lurus sampai "
        f"`siaga roads import <berkas .osm.pbf> --region <kode>` dijalankan",
        f"No road network for {codes}: ETAs are straight-line estimates until "
        f"`siaga roads import <.osm.pbf file> --region <code>` is run", False)


@cache
def migration_heads() -> frozenset[str]:
    """The head revision(s) of the migrations shipped with this version."""
    from alembic.script import ScriptDirectory

    from api.migrate import alembic_config

    return frozenset(ScriptDirectory.from_config(alembic_config("postgresql://")).get_heads())


_CATALOG_SQL = "SELECT " + ", ".join(
    f"to_regclass('public.{t}') IS NOT NULL" for t in CORE_TABLES)
_VERSIONS_SQL = "SELECT version_num FROM alembic_version"
_REGIONS_SQL = "SELECT kode_kab FROM region ORDER BY kode_kab"


def built_regions(roads_dir: Path | None) -> set[str]:
    """Region codes with at least one routing index under ``roads_dir``."""
    folder = Path(roads_dir) if roads_dir is not None else None
    if folder is None or not folder.is_dir():
        return set()
    return {p.name for p in folder.iterdir() if p.is_dir() and any(p.glob("*.npz"))}


def notices_from(tables_present: Iterable[bool], versions: Iterable[str] | None = None,
                 regions: Iterable[str] | None = None, built: set[str] | None = None
                 ) -> list[Notice]:
    """The notices for what the catalog, ``alembic_version``, ``region`` and the road network
    folder hold (pure; ``None`` = not looked at)."""
    if not all(tables_present):
        return [NOT_MIGRATED]
    out = []
    if versions is not None:
        found = set(versions)
        if not found or not found <= migration_heads():
            out.append(OUTDATED)
    if regions is not None:
        regions = list(regions)
        if not regions:
            out.append(NO_REGIONS)
        elif built is not None:
            missing = [k for k in regions if k not in built]
            if missing:
                out.append(no_road_network(missing))
    return out


def schema_notice(conn: Connection) -> Notice | None:
    """NOT_MIGRATED, OUTDATED or None, from the catalog (never raises on a bare database)."""
    found = tuple(conn.execute(text(_CATALOG_SQL)).one())
    if not all(found):
        return NOT_MIGRATED
    versions = conn.execute(text(_VERSIONS_SQL)).scalars()
    return next(iter(notices_from(found, versions)), None)


def setup_notices(conn: Connection, roads_dir: Path | None = None) -> list[Notice]:
    """Every notice that applies to this database (and road network folder)."""
    found = tuple(conn.execute(text(_CATALOG_SQL)).one())
    if not all(found):
        return [NOT_MIGRATED]
    return notices_from(found, conn.execute(text(_VERSIONS_SQL)).scalars(),
                        conn.execute(text(_REGIONS_SQL)).scalars(),
                        built_regions(roads_dir) if roads_dir is not None else None)


async def setup_notices_async(query: Callable[[str], Awaitable[list[tuple]]],
                              roads_dir: Path | None = None) -> list[Notice]:
    """:func:`setup_notices` over an asynchronous ``query(sql) -> rows`` (the health probe)."""
    [found] = await query(_CATALOG_SQL)
    if not all(found):
        return [NOT_MIGRATED]
    versions = [r[0] for r in await query(_VERSIONS_SQL)]
    regions = [r[0] for r in await query(_REGIONS_SQL)]
    return notices_from(found, versions, regions,
                        built_regions(roads_dir) if roads_dir is not None else None)


def _where(engine: Engine) -> str:
    url = engine.url
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"


def explain(exc: BaseException, where: str = "") -> Notice | None:
    """The notice behind a database error (missing table or column, refused connection)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        name = type(current).__name__
        if name in ("UndefinedTable", "UndefinedColumn"):
            return NOT_MIGRATED
        connection_class = isinstance(current, sa_exc.OperationalError) or name in (
            "OperationalError", "ConnectionTimeout")
        if connection_class and "connect" in str(current).lower():
            return unreachable(where or "SIAGA_DATABASE_URL")
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return None


def require_database(engine: Engine, *, roads_dir: Path | None = None,
                     need_regions: bool = False) -> list[Notice]:
    """For a CLI command: exit 1 with the sentence when the database is unreachable or not
    migrated (or has no region while ``need_regions``); print other notices to stderr as
    warnings and return them."""
    try:
        with engine.connect() as conn:
            notices = setup_notices(conn, roads_dir) if need_regions or roads_dir else [
                n for n in [schema_notice(conn)] if n is not None]
    except sa_exc.DBAPIError as exc:
        notice = explain(exc, _where(engine)) or unreachable(_where(engine))
        notices = [notice]
    for notice in notices:
        blocking = notice.blocking or (need_regions and notice is NO_REGIONS)
        print(f"{'error' if blocking else 'peringatan / warning'}: {notice.text()}",
              file=sys.stderr)
        if blocking:
            raise SystemExit(1)
    return notices
