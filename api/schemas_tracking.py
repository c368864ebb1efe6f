"""Response models of the tracking routes: latest positions, devices, tracks, rejects."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from api.schemas_geo import IsoTime, Position


class FixPropertiesOut(BaseModel):
    device_id: str
    fix_time: IsoTime | None
    seq: int | None
    speed_mps: float | None
    heading_deg: float | None
    altitude_m: float | None
    hdop: float | None
    accuracy_m: float | None
    satellites: int | None
    battery_pct: float | None
    ignition: bool | None
    source: str
    received_at: IsoTime | None


class PointGeometry(BaseModel):
    type: Literal["Point"]
    coordinates: Position


class FixFeature(BaseModel):
    """One fix as a GeoJSON Point Feature (EPSG:4326)."""

    type: Literal["Feature"]
    geometry: PointGeometry
    properties: FixPropertiesOut


class LatestOut(BaseModel):
    """The latest position of each device (GeoJSON FeatureCollection)."""

    type: Literal["FeatureCollection"]
    features: list[FixFeature]


class LineGeometry(BaseModel):
    type: Literal["LineString"]
    coordinates: list[Position]


class TrackLineProperties(BaseModel):
    kind: Literal["track"]
    device_id: str
    start: IsoTime | None
    end: IsoTime | None


class TrackLineFeature(BaseModel):
    type: Literal["Feature"]
    geometry: LineGeometry
    properties: TrackLineProperties


class TrackSummary(BaseModel):
    device_id: str
    start: IsoTime
    end: IsoTime
    fixes: int


class TrackOut(BaseModel):
    """A device's track: the LineString (two fixes or more) then one Point per fix."""

    type: Literal["FeatureCollection"]
    features: list[TrackLineFeature | FixFeature]
    properties: TrackSummary


class DeviceOut(BaseModel):
    device_id: str
    kode_kab: str | None
    label: str | None
    registered: bool
    first_seen_at: IsoTime | None
    last_seen_at: IsoTime | None
    last_fix_at: IsoTime | None
    last_status_at: IsoTime | None
    last_status_reason: str | None
    last_cells: list[dict[str, Any]] | None
    last_wifi_count: int | None
    alive_without_fix: bool


class DeviceListOut(BaseModel):
    devices: list[DeviceOut]


class RejectOut(BaseModel):
    id: int
    received_at: IsoTime
    topic: str
    device_id: str | None
    item_index: int | None
    reason: str
    message: str
    message_en: str
    payload_text: str | None


class RejectsOut(BaseModel):
    counts: dict[str, int]
    rejects: list[RejectOut]
