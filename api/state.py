"""Process-wide resources of the API, built once in the lifespan and passed to handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.settings import Settings


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    sessionmaker: sessionmaker[Session]
    #: Domain resources keyed by name ("geocoder", "road_networks", "mqtt", "fanout", ...),
    #: filled by the router modules' startup hooks or by tests.
    resources: dict[str, Any] = field(default_factory=dict)
