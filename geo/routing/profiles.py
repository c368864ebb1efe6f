"""Vehicle profiles: how fast a vehicle moves on each OSM road class, and where it may not go.

Profiles are data (``profiles.yaml`` next to this module, or a regency's own copy); this module only
reads and validates them. Speeds are km/h, penalties seconds.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from geo.exceptions import RoutingError, UnknownProfileError

DEFAULT_PROFILES_PATH = Path(__file__).with_name("profiles.yaml")


@dataclass(frozen=True)
class VehicleProfile:
    """How one kind of vehicle uses the road network.

    Attributes
    ----------
    speeds_kmh
        Travel speed per OSM ``highway`` class, km/h. A class absent here (and with no ``default``
        entry) is not usable.
    forbidden_highways
        Classes never used by this vehicle.
    max_speed_kmh
        Cap on every speed, including a tagged ``maxspeed``.
    signal_penalty_s
        Seconds added when entering a node tagged ``highway=traffic_signals``.
    offroad_speed_kmh
        Straight-line speed between a position and the road it is snapped to.
    detour_factor
        Multiplier of straight-line distance for estimates made without a road network.
    ignore_oneway
        When true the vehicle may drive against ``oneway`` streets.
    """

    name: str
    label_id: str
    label_en: str
    speeds_kmh: Mapping[str, float]
    forbidden_highways: frozenset[str]
    max_speed_kmh: float
    signal_penalty_s: float
    offroad_speed_kmh: float
    detour_factor: float
    ignore_oneway: bool

    def speed_for(self, highway: str) -> float | None:
        """Speed in km/h on a road of class ``highway``; ``None`` when the class is not usable."""
        base = highway[:-5] if highway.endswith("_link") else highway
        if highway in self.forbidden_highways or base in self.forbidden_highways:
            return None
        speed = self.speeds_kmh.get(highway)
        if speed is None:
            speed = self.speeds_kmh.get(base, self.speeds_kmh.get("default"))
        if speed is None:
            return None
        return min(float(speed), self.max_speed_kmh)

    def fingerprint(self) -> str:
        """A stable hash of every field that changes routing results (cache key part)."""
        payload = {
            "name": self.name,
            "speeds_kmh": sorted((k, float(v)) for k, v in self.speeds_kmh.items()),
            "forbidden_highways": sorted(self.forbidden_highways),
            "max_speed_kmh": self.max_speed_kmh,
            "signal_penalty_s": self.signal_penalty_s,
            "offroad_speed_kmh": self.offroad_speed_kmh,
            "ignore_oneway": self.ignore_oneway,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly view (for the CLI and the API)."""
        return {
            "name": self.name,
            "label_id": self.label_id,
            "label_en": self.label_en,
            "speeds_kmh": dict(self.speeds_kmh),
            "forbidden_highways": sorted(self.forbidden_highways),
            "max_speed_kmh": self.max_speed_kmh,
            "signal_penalty_s": self.signal_penalty_s,
            "offroad_speed_kmh": self.offroad_speed_kmh,
            "detour_factor": self.detour_factor,
            "ignore_oneway": self.ignore_oneway,
        }


def _positive(name: str, field: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise RoutingError(f"profile {name!r}: {field} must be a number, got {value!r}") from exc
    if not math.isfinite(number) or number <= 0:
        raise RoutingError(f"profile {name!r}: {field} must be positive, got {value!r}")
    return number


def _profile(name: str, raw: Mapping[str, Any], defaults: Mapping[str, Any]) -> VehicleProfile:
    merged: dict[str, Any] = {**defaults, **raw}
    speeds = {**dict(defaults.get("speeds_kmh") or {}), **dict(raw.get("speeds_kmh") or {})}
    checked = {str(k): _positive(name, f"speeds_kmh.{k}", v) for k, v in speeds.items()}
    if not checked:
        raise RoutingError(f"profile {name!r} has no speeds_kmh")
    penalty = float(merged.get("signal_penalty_s", 0.0))
    if not math.isfinite(penalty) or penalty < 0:
        raise RoutingError(f"profile {name!r}: signal_penalty_s must be >= 0, got {penalty!r}")
    return VehicleProfile(
        name=name,
        label_id=str(merged.get("label_id") or name),
        label_en=str(merged.get("label_en") or name),
        speeds_kmh=MappingProxyType(checked),
        forbidden_highways=frozenset(str(c) for c in merged.get("forbidden_highways") or ()),
        max_speed_kmh=_positive(name, "max_speed_kmh", merged.get("max_speed_kmh", 80)),
        signal_penalty_s=penalty,
        offroad_speed_kmh=_positive(name, "offroad_speed_kmh", merged.get("offroad_speed_kmh", 5)),
        detour_factor=_positive(name, "detour_factor", merged.get("detour_factor", 1.4)),
        ignore_oneway=bool(merged.get("ignore_oneway", False)),
    )


def parse_profiles(document: Mapping[str, Any]) -> dict[str, VehicleProfile]:
    """Validate a parsed profiles document (the YAML structure) into profiles by name."""
    if not isinstance(document, Mapping) or not isinstance(document.get("profiles"), Mapping):
        raise RoutingError("a profiles file needs a 'profiles' mapping of name -> settings")
    defaults = document.get("defaults") or {}
    result = {}
    for name, raw in document["profiles"].items():
        if not isinstance(raw, Mapping):
            raise RoutingError(f"profile {name!r} must be a mapping of settings")
        result[str(name)] = _profile(str(name), raw, defaults)
    if not result:
        raise RoutingError("the profiles file defines no profile")
    return result


def load_profiles(path: Path | None = None) -> dict[str, VehicleProfile]:
    """Read vehicle profiles from ``path`` (default: the ``profiles.yaml`` shipped with Siaga)."""
    path = Path(path) if path is not None else DEFAULT_PROFILES_PATH
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RoutingError(f"cannot read the profiles file {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise RoutingError(f"the profiles file {path} is not valid YAML: {exc}") from exc
    return parse_profiles(document)


def get_profile(profiles: Mapping[str, VehicleProfile], name: str) -> VehicleProfile:
    """Look a profile up by name, raising :class:`UnknownProfileError` with the valid names."""
    try:
        return profiles[name]
    except KeyError:
        known = ", ".join(sorted(profiles))
        raise UnknownProfileError(
            f"profil kendaraan {name!r} tidak dikenal / unknown vehicle profile {name!r}; "
            f"known: {known}"
        ) from None
