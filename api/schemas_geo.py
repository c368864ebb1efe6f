"""Response models of the geocoding, region and routing routes (the JSON they answer today).

Timestamps that the domain already writes as text are typed ``IsoTime`` (RFC 3339 strings), so
the bodies stay byte for byte what they were. GeoJSON objects allow foreign members (RFC 7946
section 6.1): ``name``, ``attribution``, top-level ``properties``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
)

#: A time already written as RFC 3339 text by the domain (``...Z`` or ``+00:00``).
IsoTime = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
#: Longitude/latitude degrees (WGS 84) as a GeoJSON position.
Position = list[float]


# --- GeoJSON ------------------------------------------------------------------------------------

class Geometry(BaseModel):
    """A GeoJSON geometry (EPSG:4326, longitude first)."""

    type: Literal["Point", "LineString", "Polygon", "MultiPoint", "MultiLineString",
                  "MultiPolygon"]
    coordinates: list[Any]


class Feature(BaseModel):
    """A GeoJSON Feature; ``properties`` as the route documents them."""

    model_config = ConfigDict(extra="allow")

    type: Literal["Feature"]
    geometry: Geometry | None
    properties: dict[str, Any] | None


class FeatureCollection(BaseModel):
    """A GeoJSON FeatureCollection (foreign members such as ``properties`` kept)."""

    model_config = ConfigDict(extra="allow")

    type: Literal["FeatureCollection"]
    features: list[Feature]


class BoundaryCollection(FeatureCollection):
    """Desa or kecamatan boundaries of one region, with their attribution."""

    name: str
    attribution: str


# --- geocoding ----------------------------------------------------------------------------------

class ReverseOut(BaseModel):
    """Reverse geocoding of one point; the area fields are null when it is outside every region."""

    kode_desa: str | None
    nama_desa: str | None
    jenis: str | None
    kode_kec: str | None
    nama_kec: str | None
    kode_kab: str | None
    nama_kab: str | None
    kode_prov: str | None
    nama_prov: str | None
    kode_bps: str | None
    nama_bps: str | None
    match: Literal["exact", "nearest", "outside", "invalid"]
    distance_m: float | None = Field(description="metres to the area; 0 inside, null outside")
    lat: float
    lon: float


class SearchCandidateOut(BaseModel):
    level: Literal["desa", "kecamatan"]
    kode: str
    nama: str
    jenis: str
    kode_bps: str | None
    nama_bps: str | None
    kode_kec: str
    nama_kec: str
    kode_kab: str
    nama_kab: str
    score: float
    matched_name: str
    lon: float
    lat: float


class SearchOut(BaseModel):
    query: str
    candidates: list[SearchCandidateOut]


# --- regions ------------------------------------------------------------------------------------

class RegionOut(BaseModel):
    kode_kab: str
    nama_kab: str
    jenis: str
    kode_prov: str | None
    nama_prov: str | None
    kecamatan_count: int
    desa_count: int
    kelurahan_count: int
    source_file: str
    imported_at: IsoTime


class RegionListOut(BaseModel):
    regions: list[RegionOut]
    attribution: str


# --- routing ------------------------------------------------------------------------------------

class PointOut(BaseModel):
    lat: float
    lon: float
    id: str | None = Field(default=None, description="Caller's reference (absent if not given).")

    @model_serializer(mode="wrap")
    def _without_absent_id(self, handler: SerializerFunctionWrapHandler):  # noqa: ANN202 - keeps the model schema
        out = handler(self)
        if out.get("id") is None:
            out.pop("id", None)
        return out


class EtaOut(BaseModel):
    origin_index: int
    reachable: bool
    eta_s: float | None
    distance_m: float | None
    reason: str | None = Field(description="beyond_horizon, no_path or off_network")
    id: str | None


class TableOut(BaseModel):
    region: str
    profile: str
    destination: PointOut
    horizon_s: float | None
    results: list[EtaOut]


class RouteStepOut(BaseModel):
    maneuver: str
    name: str
    distance_m: float
    duration_s: float
    location: Position
    text_id: str
    text_en: str


class RoutePropertiesOut(BaseModel):
    eta_s: float
    distance_m: float
    steps: list[RouteStepOut]
    region: str
    profile: str


class RouteLine(BaseModel):
    type: Literal["LineString"]
    coordinates: list[Position]


class RouteOut(BaseModel):
    """The fastest route as a GeoJSON Feature (LineString) with turn-by-turn steps."""

    type: Literal["Feature"]
    geometry: RouteLine
    properties: RoutePropertiesOut


class ProfileOut(BaseModel):
    name: str
    label_id: str
    label_en: str
    speeds_kmh: dict[str, float]
    forbidden_highways: list[str]
    max_speed_kmh: float
    signal_penalty_s: float
    offroad_speed_kmh: float
    detour_factor: float
    ignore_oneway: bool


class ProfileListOut(BaseModel):
    profiles: list[ProfileOut]


class NetworkOut(BaseModel):
    """One compiled road network (null where an older index file lacks the field)."""

    region: str | None
    profile: str | None
    label_id: str | None
    label_en: str | None
    nodes: int | None
    edges: int | None
    source_sha256: str | None
    built_at: str | None


class NetworkListOut(BaseModel):
    networks: list[NetworkOut]
