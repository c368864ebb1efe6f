"""Recommendations: for each agency an incident needs, its units ranked by road ETA.

Positions: the unit's latest GPS fix (``tracking.service.latest_positions``) if recent, else its
home post (``post``), else an older fix, else its seeded home station. Road ETAs come from
``geo.routing`` (one 1×N table per vehicle profile); a region or profile without a road network
falls back to straight-line estimates (``estimated``).

:func:`recommend` returns typed values (:class:`AgencyRecommendation` holding ranked
:class:`~dispatch.ranking.Recommendation` units); their JSON form is written only at the edges
(the HTTP route, the CLI, the escalation event) by :func:`agency_recommendation_dict` and
:func:`recommendation_dict`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.config import DispatchConfig
from dispatch.exceptions import DispatchValidationError
from dispatch.incident_records import (
    agency_by_code,
    get_incident,
    incident_agencies,
    point_of,
    sla_minutes,
)
from dispatch.lifecycle import UNIT_SENDING_ROLES
from dispatch.models import Agency, Post, Station, Unit
from dispatch.ports import RoadNetworks
from dispatch.ranking import Candidate, ProfileSpeed, Recommendation, RoadEstimate, rank_units
from dispatch.scope import Scope
from dispatch.triage import triage
from geo.exceptions import GeoError
from geo.routing.profiles import load_profiles
from geo.types import LonLat
from tracking.service import latest_positions

#: A fix at most this old (s) places a unit; an older one gives way to the unit's home post.
FRESH_FIX_S = 600.0
#: Straight-line estimates use the profile's speed on this road class (km/h).
ESTIMATE_ROAD_CLASS = "secondary"


@dataclass(frozen=True)
class AgencyRecommendation:
    """The ranked units of one agency an incident needs (role ``dispatch`` or ``standby``).

    ``units`` are best first (:func:`dispatch.ranking.rank_units`), at most the caller's
    ``limit``; ``on_scene_min`` is the agency's on-scene SLA in minutes.
    """

    agency: str
    agency_name: str
    role: str
    capabilities: tuple[str, ...]
    on_scene_min: float
    units: tuple[Recommendation, ...]

    @property
    def first_reachable(self) -> Recommendation | None:
        """The best unit if it can reach the incident (unreachable units are ranked last)."""
        return self.units[0] if self.units and self.units[0].reachable else None


@cache
def _packaged_profiles() -> dict[str, Any]:
    """The profiles shipped with Siaga, read once (only when a caller gives none)."""
    return load_profiles()


def configured_profiles(profiles: Mapping[str, Any] | None,
                        road_networks: RoadNetworks | None = None) -> Mapping[str, Any]:
    """The vehicle profiles to estimate with: ``profiles`` when given, else those the road
    networks were built with (``settings.profiles_path`` at the composition roots), else the
    packaged ones."""
    if profiles is not None:
        return profiles
    nets_profiles = getattr(road_networks, "profiles", None)
    if nets_profiles is not None:
        return nets_profiles
    return _packaged_profiles()


def profile_speeds(profiles: Mapping[str, Any]) -> dict[str, ProfileSpeed]:
    """Straight-line speed and detour factor per vehicle profile (``geo.routing`` profiles)."""
    out = {}
    for name, p in profiles.items():
        speed = p.speeds_kmh.get(ESTIMATE_ROAD_CLASS) or p.speeds_kmh.get("default") or 30.0
        out[name] = ProfileSpeed(name, min(float(speed), float(p.max_speed_kmh)),
                                 float(p.detour_factor))
    return out


def unit_positions(session: Session, units: Sequence[Unit], *, now: datetime | None = None,
                   fresh_fix_s: float = FRESH_FIX_S
                   ) -> dict[int, tuple[LonLat | None, str, datetime | None]]:
    """unit id → (position, "gps" | "post" | "station" | "none", fix time).

    A fix at most ``fresh_fix_s`` old (at ``now``) places the unit; without one, a unit with a
    home post is expected there (units return to their post after an assignment is cleared);
    otherwise its older fix, else its seeded home station.
    """
    now = now or datetime.now(UTC)
    devices = [u.device_id for u in units if u.device_id]
    latest = latest_positions(session, devices) if devices else {}
    station_ids = {u.station_id for u in units if u.station_id}
    stations = {s.id: point_of(s.geom) for s in session.scalars(
        select(Station).where(Station.id.in_(station_ids)))} if station_ids else {}
    post_ids = {u.post_id for u in units if u.post_id}
    posts = {p.id: point_of(p.geom) for p in session.scalars(
        select(Post).where(Post.id.in_(post_ids)))} if post_ids else {}
    out: dict[int, tuple[LonLat | None, str, datetime | None]] = {}
    for u in units:
        fix = latest.get(u.device_id) if u.device_id else None
        fresh = fix is not None and (now - fix.fix_time).total_seconds() <= fresh_fix_s
        if fix is not None and (fresh or u.post_id not in posts):
            out[u.id] = (LonLat(fix.lon, fix.lat), "gps", fix.fix_time)
        elif u.post_id in posts:
            out[u.id] = (posts[u.post_id], "post", None)
        elif u.station_id in stations:
            out[u.id] = (stations[u.station_id], "station", None)
        else:
            out[u.id] = (None, "none", None)
    return out


def road_estimates(road_networks: RoadNetworks | None, kode_kab: str,
                   candidates: Sequence[Candidate], target: LonLat) -> dict[int, RoadEstimate]:
    """Road ETA per unit id for the candidates whose profile has a network in the region."""
    out: dict[int, RoadEstimate] = {}
    if road_networks is None:
        return out
    by_profile: dict[str, list[Candidate]] = defaultdict(list)
    for c in candidates:
        if c.position is not None:
            by_profile[c.profile].append(c)
    for profile, group in by_profile.items():
        try:
            if not road_networks.has(kode_kab, profile):
                continue
            index = road_networks.get(kode_kab, profile)
            etas = index.table([c.position for c in group], target)
        except GeoError:
            continue  # destination off the network etc.: fall back to estimates
        for eta in etas:
            c = group[eta.origin_index]
            out[c.unit_id] = RoadEstimate(eta.reachable, eta.eta_s, eta.distance_m, eta.reason)
    return out


def candidates_for(session: Session, kode_kab: str, agency_ids: Sequence[int] | None = None,
                   unit_ids: Sequence[int] | None = None) -> list[Candidate]:
    stmt = select(Unit, Agency.code).join(Agency, Agency.id == Unit.agency_id).where(
        Unit.kode_kab == kode_kab)
    if agency_ids is not None:
        stmt = stmt.where(Unit.agency_id.in_(list(agency_ids)))
    if unit_ids is not None:
        stmt = stmt.where(Unit.id.in_(list(unit_ids)))
    rows = session.execute(stmt.order_by(Unit.call_sign)).all()
    positions = unit_positions(session, [r[0] for r in rows])
    return [Candidate(u.id, u.call_sign, code, u.status, u.profile, frozenset(u.capabilities),
                      *positions[u.id]) for u, code in rows]


def recommend(
    session: Session,
    incident_id: int,
    *,
    config: DispatchConfig,
    road_networks: RoadNetworks | None = None,
    profiles: Mapping[str, Any] | None = None,
    agency_codes: Sequence[str] | None = None,
    limit: int = 10,
    scope: Scope,
) -> list[AgencyRecommendation]:
    """For each agency of the incident that sends units (role dispatch or standby), its units
    ranked by ETA to the incident, each with ``sla_can_be_met`` against the agency's on-scene
    minutes. An untriaged incident is ranked with the triage rules (nothing is written)."""
    incident = get_incident(session, incident_id, scope=scope)  # else not found
    target = point_of(incident.geom)
    if target is None:
        raise DispatchValidationError(
            f"Kejadian {incident_id} belum punya lokasi / incident {incident_id} has no location.")
    rows = incident_agencies(session, incident.id)
    needs: list[tuple[Agency, str, tuple[str, ...], float]] = []
    if rows:
        for ia, agency in rows:
            if ia.role in UNIT_SENDING_ROLES:
                needs.append((agency, ia.role, tuple(ia.capabilities), ia.on_scene_min))
    else:
        for req in triage(config, incident.kode_kab, incident.category).agencies:
            if req.role in UNIT_SENDING_ROLES:
                agency = agency_by_code(session, incident.kode_kab, req.agency,
                                        scope=Scope.everything())
                needs.append((agency, req.role, req.capabilities,
                              sla_minutes(session, config, agency, incident.category)[1]))
    if agency_codes:
        needs = [n for n in needs if n[0].code in set(agency_codes)]
    candidates = candidates_for(session, incident.kode_kab, [a.id for a, *_ in needs])
    road = road_estimates(road_networks, incident.kode_kab, candidates, target)
    speeds = profile_speeds(configured_profiles(profiles, road_networks))
    out = []
    for agency, role, caps, on_scene_min in needs:
        ranked = rank_units([c for c in candidates if c.agency_code == agency.code], target,
                            road=road, speeds=speeds, on_scene_s=on_scene_min * 60.0,
                            capabilities=caps)
        out.append(AgencyRecommendation(agency.code, agency.name, role, tuple(caps),
                                        on_scene_min, tuple(ranked[:limit])))
    return out


def agency_recommendation_dict(a: AgencyRecommendation) -> dict[str, Any]:
    """The JSON form of one agency's recommendation (``AgencyRecommendationOut``)."""
    return {"agency": a.agency, "agency_name": a.agency_name, "role": a.role,
            "capabilities": list(a.capabilities), "on_scene_min": a.on_scene_min,
            "units": [recommendation_dict(r) for r in a.units]}


def recommendation_dict(r: Recommendation) -> dict[str, Any]:
    """The JSON form of one ranked unit (``RecommendedUnitOut``): position as ``{lon, lat}``,
    seconds and metres to 0.1."""
    d = asdict(r)
    d["position"] = None if r.position is None else {"lon": r.position.lon, "lat": r.position.lat}
    for key in ("eta_s", "distance_m", "straight_line_m"):
        if d[key] is not None:
            d[key] = round(d[key], 1)
    return d


def predict_for_unit(session: Session, unit: Unit, target: LonLat, *,
                     road_networks: RoadNetworks | None,
                     profiles: Mapping[str, Any] | None) -> Recommendation | None:
    """The ETA prediction stored on an assignment (same method as the recommendation)."""
    [cand] = candidates_for(session, unit.kode_kab, unit_ids=[unit.id])
    road = road_estimates(road_networks, unit.kode_kab, [cand], target)
    speeds = profile_speeds(configured_profiles(profiles, road_networks))
    ranked = rank_units([cand], target, road=road, speeds=speeds,
                        assignable=frozenset({cand.status}))
    return ranked[0] if ranked else None
