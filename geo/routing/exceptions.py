"""Routing errors beyond the ``geo.exceptions`` tree.

Hierarchy (all under :class:`geo.exceptions.RoutingError`)::

    RoutingError
    ├── OutsideNetworkError   a position is too far from every road of the region's graph
    │                         (also an InvalidCoordinateError: the coordinate is unusable here)
    └── NoRouteError          both ends are on the graph but no road path joins them
"""

from __future__ import annotations

from geo.exceptions import InvalidCoordinateError, RoutingError


class OutsideNetworkError(RoutingError, InvalidCoordinateError):
    """A position lies farther from the road network than the snapping limit."""


class NoRouteError(RoutingError, LookupError):
    """No road path joins the two positions for this vehicle profile."""
