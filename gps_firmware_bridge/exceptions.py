"""Errors of the GPS firmware bridge.

Hierarchy::

    BridgeError                 base class of every bridge error
    ├── ConfigError             bad command-line or configuration value
    ├── OutboxError             the on-disk outbox cannot be opened or written
    ├── HttpRequestError        an HTTP request the OsmAnd server must refuse (has ``status``)
    ├── RoadNetworkError        a road file cannot be read, or no route exists
    └── CommandError            a server command that cannot be queued or sent

Decoders never raise for bad input: a garbage, truncated or wrong-checksum frame is returned as a
:class:`gps_firmware_bridge.fix.Rejection`, so one bad frame never stops ingestion.
"""

from __future__ import annotations


class BridgeError(Exception):
    """Base class of every error raised by the bridge."""


class ConfigError(BridgeError):
    """A command-line option or configuration value is invalid."""


class OutboxError(BridgeError):
    """The store-and-forward outbox cannot be opened or written."""


class RoadNetworkError(BridgeError):
    """A road network file cannot be read, or no route connects two points."""


class HttpRequestError(BridgeError):
    """An HTTP request that cannot be served; ``status`` is the HTTP status to answer with.

    The message is for people (Bahasa Indonesia first, then English) and is sent as the body.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class CommandError(BridgeError):
    """A tracker command is malformed, too long, or its device's queue is full."""
