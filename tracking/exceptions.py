"""Errors raised by the ``tracking`` package.

Hierarchy::

    TrackingError
    ├── DeviceNotFoundError     no device with that id is known
    ├── InvalidTimeRangeError   a track query whose end is before its start (or unbounded)
    └── IngestConfigError       the ingest worker was given impossible settings

Bad input on MQTT is never an exception: the decoders return typed rejections
(:class:`tracking.contract.Rejection`) so one bad frame never stops ingestion.
Messages are complete sentences a person can act on; the API maps each class to an HTTP status.
"""


class TrackingError(Exception):
    """Base class of every error raised by ``tracking``."""


class DeviceNotFoundError(TrackingError, LookupError):
    """No device with that id has been registered or seen."""


class InvalidTimeRangeError(TrackingError, ValueError):
    """A time window that cannot be queried."""


class IngestConfigError(TrackingError, ValueError):
    """The ingest worker cannot run with these parameters."""
