"""Storage of population figures (``population`` table): import a parsed file, read the latest.

An import replaces the figures of the same (code, year) in one transaction owned by the caller;
rows of regencies the caller may not act for are refused by the command or route before this.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from geo.models import Population
from geo.population import PopulationRow

__all__ = ["LatestPopulation", "import_population", "latest_population"]


def import_population(session: Session, rows: Sequence[PopulationRow]) -> int:
    """Insert or replace ``rows``; returns how many were written (no commit)."""
    now = datetime.now(UTC)
    values = [{"kode": r.kode, "tahun": r.tahun, "level": r.level, "kode_kab": r.kode_kab,
               "nama": r.nama, "penduduk": r.penduduk, "laki_laki": r.laki_laki,
               "perempuan": r.perempuan, "sumber": r.sumber, "imported_at": now} for r in rows]
    if not values:
        return 0
    stmt = insert(Population).values(values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[Population.kode, Population.tahun],
        set_={c: stmt.excluded[c] for c in ("level", "kode_kab", "nama", "penduduk", "laki_laki",
                                             "perempuan", "sumber", "imported_at")},
    )
    session.execute(stmt)
    return len(values)


@dataclass(frozen=True)
class LatestPopulation:
    """The newest figure of every code of one regency, per level: ``{kode: (penduduk, tahun)}``."""

    kabupaten: dict[str, tuple[int, int]]
    kecamatan: dict[str, tuple[int, int]]
    desa: dict[str, tuple[int, int]]
    sources: tuple[str, ...]


def latest_population(session: Session, kode_kab: str) -> LatestPopulation:
    rows = session.execute(
        select(Population.level, Population.kode, Population.penduduk, Population.tahun,
               Population.sumber)
        .where(Population.kode_kab == kode_kab)
        .order_by(Population.kode, Population.tahun)
    ).all()
    levels: dict[str, dict[str, tuple[int, int]]] = {"kabupaten": {}, "kecamatan": {}, "desa": {}}
    sources: list[str] = []
    for level, kode, penduduk, tahun, sumber in rows:
        levels[level][kode] = (int(penduduk), int(tahun))  # ordered by year: the newest wins
        if sumber and sumber not in sources:
            sources.append(sumber)
    return LatestPopulation(levels["kabupaten"], levels["kecamatan"], levels["desa"],
                            tuple(sources))
