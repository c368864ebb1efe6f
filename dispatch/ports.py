"""What dispatch needs from geocoding and road routing, as protocols (pure, no I/O).

The services take a :class:`Geocoder` and a :class:`RoadNetworks` instead of ``Any``; the
platform's implementations are :class:`geo.geocode.Geocoder` and
:class:`geo.routing.store.RoadNetworks` (built once at the composition root), and a test may pass
any object with these methods. ``tests/unit/dispatch/test_ports.py`` checks that the real classes
satisfy them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from geo.geocode import ReverseResult
    from geo.routing.profiles import VehicleProfile
    from geo.routing.results import Eta
    from geo.search import SearchCandidate
    from geo.types import LonLat

__all__ = ["Geocoder", "RoadNetworks", "RoutingTable"]


@runtime_checkable
class Geocoder(Protocol):
    """Places a point in the desa/kecamatan hierarchy and finds a place by (fuzzy) name."""

    def reverse(self, lon: float, lat: float, *, tolerance_m: float = ...) -> ReverseResult:
        """The desa/kelurahan of a WGS 84 point (exact, nearest within ``tolerance_m`` metres,
        or outside)."""
        ...

    def search(self, q: str, *, kode_kab: str | None = None, kode_kec: str | None = None,
               limit: int = 10) -> list[SearchCandidate]:
        """Ranked desa/kecamatan candidates for a name."""
        ...


@runtime_checkable
class RoutingTable(Protocol):
    """One region's road network for one vehicle profile: ETAs of many origins to a point."""

    def table(self, origins: Sequence[LonLat], destination: LonLat, *,
              horizon_s: float | None = None) -> list[Eta]:
        """Seconds and metres by road from each origin to ``destination`` (or why not)."""
        ...


@runtime_checkable
class RoadNetworks(Protocol):
    """The road networks per regency and vehicle profile, with the profiles they were built
    with (speeds per road class, detour factor) for straight-line estimates."""

    profiles: Mapping[str, VehicleProfile]

    def has(self, kode_kab: str, profile: str) -> bool:
        """Whether a network exists for that regency and profile."""
        ...

    def get(self, kode_kab: str, profile: str) -> RoutingTable:
        """The network of a regency and profile (raises a ``geo`` error when there is none)."""
        ...
