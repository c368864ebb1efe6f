"""Response models of the planner analytics routes and of the health/attribution endpoints."""

from __future__ import annotations

from pydantic import BaseModel

#: A figure that may be an integer or a float (weights, counts from the data).
Number = int | float


class SetupNoticeOut(BaseModel):
    """Something still to set up, with the command to run (Bahasa Indonesia, English)."""

    code: str
    message: str
    message_en: str


class HealthOut(BaseModel):
    """``ok`` and the database round trip in milliseconds; ``setup``: what is still to do
    (``no_regions``, ``no_road_network``, ``database_outdated``; a database not migrated
    answers 503 ``not_migrated``)."""

    status: str
    database: str
    database_ms: float
    setup: list[SetupNoticeOut] = []


class HealthUnavailableOut(BaseModel):
    """503 of ``/api/v1/health``: the database did not answer in time (``unavailable``, the
    reason in ``database``) or is not migrated (``not_migrated``, with the command to run)."""

    status: str
    database: str
    database_ms: float
    message: str
    setup: list[SetupNoticeOut] = []


class AttributionOut(BaseModel):
    attribution: list[str]


class DesaHotspotOut(BaseModel):
    kode_desa: str
    nama_desa: str
    count: int
    value: float
    z: float
    p: float
    gi_bin: int


class DesaHotspotsOut(BaseModel):
    """Gi* per desa/kelurahan; ``p_threshold`` per confidence level (FDR corrected)."""

    kode_kab: str
    measure: str
    fdr: bool
    p_threshold: dict[str, float]
    desa: list[DesaHotspotOut]


class CellHotspotOut(BaseModel):
    lon: float
    lat: float
    count: int
    z: float
    p: float
    gi_bin: int


class GridHotspotsOut(BaseModel):
    kode_kab: str
    cell_m: float
    cells: list[CellHotspotOut]


class TimePatternsOut(BaseModel):
    """Counts per day of week (Monday first) x hour, and per month and category."""

    kode_kab: str
    tz: str
    hour_of_week: list[list[int]]
    months: list[str]
    monthly_by_category: dict[str, list[int]]


class DesaEmergingOut(BaseModel):
    kode_desa: str
    nama_desa: str
    category: str
    trend_tau: float
    trend_p: float
    gi_bin: list[int]


class EmergingOut(BaseModel):
    kode_kab: str
    steps: list[str]
    desa: list[DesaEmergingOut]


class PostOut(BaseModel):
    code: str
    lon: float
    lat: float


class NewPostOut(BaseModel):
    lon: float
    lat: float


class GapOut(BaseModel):
    lon: float
    lat: float
    weight: Number


class SitingOut(BaseModel):
    """The selected posts, the demand covered and the largest uncovered demand cells."""

    problem: str
    status: str
    optimal: bool
    mip_gap: float | None
    solve_s: float
    matrix_s: float
    minutes: float
    covered_weight: Number
    total_weight: Number
    covered_share: float
    existing_posts: list[PostOut]
    new_posts: list[NewPostOut]
    uncoverable: int
    gaps: list[GapOut]
