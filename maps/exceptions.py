"""Errors of map rendering.

Hierarchy::

    MapError
    └── MapInputError   data given to a renderer is unusable (empty, wrong shape, bad value)
"""

from __future__ import annotations


class MapError(Exception):
    """Base class of map rendering errors."""


class MapInputError(MapError, ValueError):
    """The data passed to a renderer cannot be drawn (the message says which and why)."""
