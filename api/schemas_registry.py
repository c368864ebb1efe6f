"""Request and response models of the registry routes (posts, units, trackers)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas_geo import IsoTime
from dispatch.registry_fields import PROTOCOLS

KODE_KAB = r"^\d{2}\.\d{2}$"
#: A tracker id that can be an MQTT login and topic level.
DEVICE_ID = r"^[^+#/:\x00-\x1f\x7f-\x9f]{1,128}$"


class PostOut(BaseModel):
    """A post or base (EPSG:4326 point)."""

    id: int
    kode_kab: str
    agency: str
    name: str
    kind: str
    lon: float
    lat: float
    address: str


class PostListOut(BaseModel):
    posts: list[PostOut]


class RegistryUnitOut(BaseModel):
    """A unit of the registry with its home post and tracker."""

    id: int
    kode_kab: str
    call_sign: str
    agency: str
    vehicle_type: str
    profile: str
    capabilities: list[str]
    home_post: str | None
    post_id: int | None
    crew_size: int | None
    status: str
    device_id: str | None
    protocol: str | None


class RegistryUnitListOut(BaseModel):
    units: list[RegistryUnitOut]


class ImportOut(BaseModel):
    """What an import created and updated (names of posts, call signs of units)."""

    kind: Literal["posts", "units"]
    created: list[str]
    updated: list[str]
    notes: list[str]
    total: int


class TrackerOut(BaseModel):
    """A tracker: registered, revoked, or seen by ingest and not registered yet."""

    device_id: str
    kode_kab: str | None
    label: str | None
    protocol: str | None
    registered: bool
    unit_id: int | None
    call_sign: str | None
    first_seen_at: IsoTime | None
    last_seen_at: IsoTime | None
    last_fix_at: IsoTime | None
    mqtt_provisioned_at: IsoTime | None
    revoked_at: IsoTime | None


class TrackerListOut(BaseModel):
    trackers: list[TrackerOut]


class TrackerCreate(BaseModel):
    """Register a tracker (IMEI or id) for a regency, optionally on one of its units."""

    model_config = ConfigDict(extra="forbid")
    device_id: str = Field(pattern=DEVICE_ID)
    kode_kab: str = Field(pattern=KODE_KAB)
    protocol: Literal[PROTOCOLS] | None = None  # type: ignore[valid-type]
    unit_id: int | None = Field(None, ge=1, le=2**31 - 1)
    label: str | None = Field(None, min_length=1, max_length=120)


class TrackerRegisteredOut(BaseModel):
    """The tracker and its MQTT login; the password is shown only in this answer."""

    tracker: TrackerOut
    mqtt_username: str | None
    mqtt_password: str | None
    topic: str
