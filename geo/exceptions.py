"""Errors raised by the ``geo`` package.

Hierarchy::

    GeoError
    ├── InvalidCoordinateError   impossible coordinates (NaN, out of range)
    ├── RegionImportError        a boundary file cannot be imported (nothing was written)
    ├── RegionNotFoundError      no region with that kabupaten/kota code is loaded
    └── RoutingError             road network build or query problems
        ├── RoadNetworkError     a roads file cannot be turned into a routing graph
        ├── UnknownProfileError  no vehicle profile of that name
        └── NoRoadNetworkError   no routing index for that region/profile

Messages are complete sentences a person can act on; the API maps each class to an HTTP status.
"""


class GeoError(Exception):
    """Base class of every error raised by ``geo``."""


class InvalidCoordinateError(GeoError, ValueError):
    """Coordinates that cannot be a place on Earth."""


class RegionImportError(GeoError):
    """A boundary file could not be imported; the database was left unchanged."""


class RegionNotFoundError(GeoError, LookupError):
    """No region with that code is loaded."""


class RoutingError(GeoError):
    """Base class of road network errors."""


class RoadNetworkError(RoutingError):
    """A roads file could not be turned into a routing graph."""


class UnknownProfileError(RoutingError, LookupError):
    """No vehicle profile of that name."""


class NoRoadNetworkError(RoutingError, LookupError):
    """No routing index has been built for that region and profile."""
