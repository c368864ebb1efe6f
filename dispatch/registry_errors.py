"""Errors of the registry (posts, units, trackers) beyond a refused file.

``RegistryFileError`` (a file refused as a whole, 422) lives with the row checks in
:mod:`dispatch.registry_fields`; ``api/errors.py`` maps these to 404 and 409.
"""

from __future__ import annotations

from dispatch.exceptions import DispatchError, DispatchNotFound


class PostNotFound(DispatchNotFound):
    """No post with that id in the caller's regencies."""


class TrackerNotFound(DispatchNotFound):
    """No tracker with that id in the caller's regencies."""


class RegistryConflict(DispatchError):
    """The change clashes with a row of the registry (tracker on another unit, id in use)."""


class LoginsNotConfigured(RegistryConflict):
    """A tracker login was asked for but this installation keeps none (no broker files set)."""


class ProvisioningError(DispatchError):
    """The broker's logins could not be changed (file not writable, reload failed)."""
