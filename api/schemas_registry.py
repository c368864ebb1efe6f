"""Request and response models of the registry routes (posts, units, trackers)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas_geo import IsoTime
from dispatch.registry_fields import IMPORT_STATUSES, POST_KINDS, PROTOCOLS

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


# --- request bodies of the imports (the file itself), as documented in the OpenAPI document ---

#: Characters of CSV and GeoJSON text (no NUL: PostgreSQL cannot store it).
_TEXT = {"type": "string", "maxLength": 300, "pattern": "^[^\\x00-\\x1f]*$"}
_CODE = {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,32}$"}
_KAB = {"type": "string", "pattern": KODE_KAB}
_POINT = {"type": "object", "additionalProperties": False, "required": ["type", "coordinates"],
          "properties": {"type": {"const": "Point"},
                         "coordinates": {"type": "array", "minItems": 2, "maxItems": 2,
                                         "items": {"type": "number"}}}}


def _collection(properties: dict[str, Any], required: list[str],
                geometry: dict[str, Any]) -> dict[str, Any]:
    feature = {"type": "object", "additionalProperties": False,
               "required": ["type", "geometry", "properties"],
               "properties": {"type": {"const": "Feature"}, "geometry": geometry,
                              "properties": {"type": "object", "additionalProperties": False,
                                             "required": required,
                                             "properties": properties}}}
    return {"type": "object", "additionalProperties": False, "required": ["type", "features"],
            "properties": {"type": {"const": "FeatureCollection"},
                           "features": {"type": "array", "maxItems": 50, "items": feature}}}


#: A posts file as GeoJSON (``dispatch.registry_io``): Point features, EPSG:4326.
POSTS_GEOJSON = _collection(
    {"kode_kab": _KAB, "agency": _CODE, "name": _TEXT,
     "kind": {"enum": list(POST_KINDS)}, "address": _TEXT},
    ["kode_kab", "agency", "name", "kind"], _POINT)
#: A fleet file as GeoJSON: one feature per unit (the geometry, its home post, is ignored).
UNITS_GEOJSON = _collection(
    {"kode_kab": _KAB, "call_sign": _TEXT, "agency": _CODE, "vehicle_type": _TEXT,
     "profile": _CODE, "capabilities": {"type": "array", "maxItems": 20, "items": _TEXT},
     "home_post": {"anyOf": [_TEXT, {"type": "null"}]},
     "crew_size": {"anyOf": [{"type": "integer", "minimum": 0, "maximum": 99},
                             {"type": "null"}]},
     "status": {"enum": list(IMPORT_STATUSES)},
     "device_id": {"anyOf": [{"type": "string", "pattern": DEVICE_ID}, {"type": "null"}]},
     "protocol": {"anyOf": [{"enum": list(PROTOCOLS)}, {"type": "null"}]}},
    ["kode_kab", "call_sign", "agency", "vehicle_type", "profile"],
    {"anyOf": [_POINT, {"type": "null"}]})


def file_body(geojson_schema: dict[str, Any], max_bytes: int) -> dict[str, Any]:
    """``openapi_extra`` of an import route: the file as ``text/csv`` or GeoJSON (a body above
    the API's size limit is refused with 413, like every other request)."""
    return {"requestBody": {"required": True, "description": (
        f"Berkas CSV atau GeoJSON, paling besar {max_bytes} bita / the CSV or GeoJSON file, "
        f"at most {max_bytes} bytes"), "content": {
        "text/csv": {"schema": {"type": "string"}},
        "application/geo+json": {"schema": geojson_schema}}}}
