"""Road routing over HTTP: ETA tables (many units to one incident), routes, profiles, networks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from api.deps import get_state
from api.schemas_geo import NetworkListOut, ProfileListOut, RouteOut, TableOut
from api.state import AppState
from geo.routing.store import RoadNetworks
from geo.types import LonLat

router = APIRouter(prefix="/api/v1/routing", tags=["routing"])

KODE_KAB_PATTERN = r"^\d{2}\.\d{2}$"


def road_networks_of(state: AppState) -> RoadNetworks:
    """The one ``RoadNetworks`` of the app (profiles from ``settings.profiles_path``)."""
    return state.road_networks


class Point(BaseModel):
    """A WGS 84 position in degrees."""

    model_config = ConfigDict(extra="forbid")

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    id: str | None = Field(default=None, max_length=100, description="Caller's reference.")

    def lonlat(self) -> LonLat:
        return LonLat(self.lon, self.lat)


class TableRequest(BaseModel):
    """Many origins (units) to one destination (the incident)."""

    model_config = ConfigDict(extra="forbid")

    region: str = Field(pattern=KODE_KAB_PATTERN, examples=["34.71"])
    profile: str = Field(min_length=1, max_length=64, examples=["ambulance"])
    destination: Point
    origins: list[Point] = Field(min_length=1, max_length=5000)
    horizon_s: float | None = Field(default=None, gt=0, le=86400)


@router.post("/table", response_model=TableOut)
def table(body: TableRequest, state: AppState = Depends(get_state)) -> dict[str, Any]:
    """Road ETA from every origin to the destination (one search); unreachable ones say why."""
    index = road_networks_of(state).get(body.region, body.profile)
    etas = index.table(
        [p.lonlat() for p in body.origins], body.destination.lonlat(), horizon_s=body.horizon_s
    )
    return {
        "region": body.region,
        "profile": body.profile,
        "destination": body.destination.model_dump(exclude_none=True),
        "horizon_s": body.horizon_s,
        "results": [{**e.to_dict(), "id": body.origins[e.origin_index].id} for e in etas],
    }


@router.get("/route", response_model=RouteOut)
def route(
    region: Annotated[str, Query(pattern=KODE_KAB_PATTERN)],
    profile: Annotated[str, Query(min_length=1, max_length=64)],
    from_lat: Annotated[float, Query(ge=-90, le=90)],
    from_lon: Annotated[float, Query(ge=-180, le=180)],
    to_lat: Annotated[float, Query(ge=-90, le=90)],
    to_lon: Annotated[float, Query(ge=-180, le=180)],
    state: AppState = Depends(get_state),
) -> dict[str, Any]:
    """Fastest road route as a GeoJSON Feature with turn-by-turn steps."""
    index = road_networks_of(state).get(region, profile)
    feature = index.route(LonLat(from_lon, from_lat), LonLat(to_lon, to_lat)).to_geojson()
    feature["properties"].update({"region": region, "profile": profile})
    return feature


@router.get("/profiles", response_model=ProfileListOut)
def profiles(state: AppState = Depends(get_state)) -> dict[str, Any]:
    """Vehicle profiles (speeds per road class, forbidden classes, labels id/en)."""
    nets = road_networks_of(state)
    return {"profiles": [p.to_dict() for p in nets.profiles.values()]}


@router.get("/networks", response_model=NetworkListOut)
def networks(state: AppState = Depends(get_state)) -> dict[str, Any]:
    """Compiled road networks available (region, profile, size, source hash)."""
    return {"networks": road_networks_of(state).listing()}
