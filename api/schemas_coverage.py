"""Response and request models of the coverage routes (``api/routes/coverage.py``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Lon = Annotated[float, Field(ge=-180, le=180)]
Lat = Annotated[float, Field(ge=-90, le=90)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class CoveragePostOut(BaseModel):
    name: str
    agency_code: str
    lon: float
    lat: float
    source: str = Field(description="post (registry), station (seeded) or what_if")


class DesaCoverageOut(BaseModel):
    kode_desa: str
    nama_desa: str
    kode_kec: str
    nama_kec: str
    area_km2: float
    population: float | None
    population_estimated: bool
    covered_share: float = Field(description="share (0..1) of the desa within the SLA minutes")
    covered_population: float | None
    uncovered_population: float | None
    bands: dict[str, float] = Field(description="minutes (5, 10, 15, 30) -> share within them")
    nearest_minutes: float | None = Field(
        description="mean minutes from the nearest post; null: part of the desa is unreachable "
                    "or beyond the road search horizon")
    serving_post: str | None


class CoverageOut(BaseModel):
    kode_kab: str
    agency: str | None
    profile: str
    sla_minutes: float
    eta_kind: str = Field(description="road, or estimate (no road network: straight line x "
                                      "detour factor at the profile's speed)")
    population_rule: str = Field(description="desa, kecamatan_by_area (estimate) or unknown")
    population_sources: list[str]
    posts: list[CoveragePostOut]
    covered_population: float
    total_population: float
    covered_share_population: float | None
    covered_area_km2: float
    total_area_km2: float
    demand_points: int
    horizon_minutes: float | None
    build_s: float
    desa: list[DesaCoverageOut]
    gaps: list[DesaCoverageOut]


class NewPost(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    lon: Lon
    lat: Lat


class WhatIfRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kode_kab: str = Field(pattern=r"^\d{2}\.\d{2}$")
    agency: str | None = Field(None, max_length=32)
    profile: str = Field("fire_truck", max_length=48)
    sla_minutes: float = Field(15.0, gt=0, le=240)
    spacing_m: float = Field(250.0, ge=50, le=5000)
    add: list[NewPost] = Field(default_factory=list, max_length=50)
    remove: list[Name] = Field(default_factory=list, max_length=200)


class WhatIfOut(BaseModel):
    before: CoverageOut
    after: CoverageOut
    covered_population_change: float
    covered_area_km2_change: float


class PopulationImportOut(BaseModel):
    kode_kab: str
    rows: int
    levels: dict[str, int]
