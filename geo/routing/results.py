"""Result and intermediate value types of road routing queries (seconds, metres, WGS 84)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from geo.types import LonLat


@dataclass(frozen=True, slots=True)
class Eta:
    """Road travel estimate from one origin to the destination.

    ``eta_s``/``distance_m`` include the off-road legs and partial edges at both ends;
    ``distance_m`` is measured along the fastest path. ``reason`` is ``None`` when reachable,
    else ``"beyond_horizon"``, ``"no_path"`` or ``"off_network"``.
    """

    origin_index: int
    reachable: bool
    eta_s: float | None
    distance_m: float | None
    reason: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "origin_index": self.origin_index,
            "reachable": self.reachable,
            "eta_s": None if self.eta_s is None else round(self.eta_s, 3),
            "distance_m": None if self.distance_m is None else round(self.distance_m, 2),
            "reason": self.reason,
        }


#: ``EtaTable.reason_code`` values: index into this tuple (0 = reachable).
REASONS: tuple[str | None, ...] = (None, "beyond_horizon", "no_path", "off_network")


@dataclass(frozen=True)
class EtaTable:
    """ETAs of many origins as arrays (seconds, metres; NaN where not reachable).

    ``reason_code`` indexes :data:`REASONS`.
    """

    eta_s: np.ndarray
    distance_m: np.ndarray
    reachable: np.ndarray
    reason_code: np.ndarray

    def to_list(self) -> list[Eta]:
        """One :class:`Eta` per origin, in input order."""
        eta, dist = self.eta_s.tolist(), self.distance_m.tolist()
        codes = self.reason_code.tolist()
        return [
            _eta(i, True, eta[i], dist[i], None)
            if c == 0
            else _eta(i, False, None, None, REASONS[c])
            for i, c in enumerate(codes)
        ]


_SLOTS = tuple(Eta.__dict__[name].__set__ for name in Eta.__slots__)


def _eta(
    origin_index: int,
    reachable: bool,
    eta_s: float | None,
    distance_m: float | None,
    reason: str | None,
) -> Eta:
    """Build an :class:`Eta` through its slot descriptors: the same frozen object as
    ``Eta(...)``, at half the cost (this runs once per unit in every table)."""
    obj = object.__new__(Eta)
    s0, s1, s2, s3, s4 = _SLOTS
    s0(obj, origin_index)
    s1(obj, reachable)
    s2(obj, eta_s)
    s3(obj, distance_m)
    s4(obj, reason)
    return obj


@dataclass(frozen=True)
class Snap:
    """Positions snapped to the nearest edge (vectorised; one entry per input position).

    ``edge`` is a directed edge id (-1 when off the network), ``frac`` the position along that
    edge's geometry (0 at its tail, 1 at its head), ``offroad_m`` the straight-line gap from the
    position to the snapped point, ``lon``/``lat`` the snapped points, ``node`` the graph node
    when the snapped point is (within :data:`geo.routing.snap.AT_NODE_M` metres) a graph node,
    else -1: a vehicle at a junction may leave it along any road, and a destination at a
    junction is reached from every road into it.
    """

    edge: np.ndarray
    frac: np.ndarray
    offroad_m: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    node: np.ndarray

    @property
    def on_network(self) -> np.ndarray:
        return self.edge >= 0

    def part(self, which: slice) -> Snap:
        """The snaps of a slice of the positions."""
        return Snap(
            self.edge[which],
            self.frac[which],
            self.offroad_m[which],
            self.lon[which],
            self.lat[which],
            self.node[which],
        )

    def point(self, i: int) -> LonLat:
        return LonLat(float(self.lon[i]), float(self.lat[i]))
