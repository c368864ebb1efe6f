"""Broker connection settings of the bridge: the URL, credentials, protocol, and which CONNACK
refusals are permanent (no MQTT library here; ``publisher.py`` makes the client)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from gps_firmware_bridge.exceptions import ConfigError


@dataclass(frozen=True, slots=True)
class MqttConfig:
    """Broker connection settings.

    Attributes
    ----------
    url : str
        ``mqtt://host:port`` or ``mqtts://host:port`` (TLS); user:password may be in the URL.
    client_id : str
        MQTT client id (unique per gateway).
    username, password : str or None
        Per-device or per-gateway credentials (the broker ACL binds them to a topic).
    keepalive_s : int
        MQTT keep-alive, seconds.
    protocol : {"5", "3.1.1"}
        MQTT protocol version; only v5 reports refused publishes.
    """

    url: str = "mqtt://127.0.0.1:1883"
    client_id: str = "siaga-bridge"
    username: str | None = None
    password: str | None = None
    keepalive_s: int = 30
    protocol: str = "5"


PERMANENT_CONNECT_REFUSALS = frozenset({4, 5, 0x86, 0x87, 0x8A, 0x8C})
"""CONNACK codes that retrying will not fix (v3.1.1: 4 bad credentials, 5 not authorized;
v5: 0x86 bad user name or password, 0x87 not authorized, 0x8A banned, 0x8C bad auth method)."""


def parse_url(url: str) -> tuple[str, int, bool, str | None, str | None]:
    """Split a broker URL into host, port, tls flag, username and password."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        raise ConfigError(f"unsupported MQTT URL scheme {parts.scheme!r} in {url!r}")
    tls = parts.scheme in ("mqtts", "ssl")
    port = parts.port or (8883 if tls else 1883)
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return parts.hostname or "127.0.0.1", port, tls, user, password
