"""The app's one geocoder, reloaded when the regions table changes (shared by every route)."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy.orm import Session

from geo.geocode import Geocoder
from geo.service import load_geocoder, regions_version


class GeocoderHolder:
    """The app's one geocoder, shared by incident intake and the geocode routes.

    Every :meth:`get` compares the regions table's version (count, latest ``imported_at``: one
    aggregate over a few rows) with the one the geocoder was built from and reloads when they
    differ, so a region imported by the CLI or any other process is used by the next request.
    """

    def __init__(self, sessionmaker: Any) -> None:
        self._sessionmaker = sessionmaker
        self._geocoder: Geocoder | None = None
        self._version: Any = None
        self._lock = threading.Lock()

    def _current(self, session: Session) -> Geocoder:
        version = regions_version(session)
        if self._geocoder is not None and version == self._version:
            return self._geocoder
        with self._lock:
            if self._geocoder is None or version != self._version:
                # Read at the version just seen; a newer import is caught on the next call.
                self._geocoder, self._version = load_geocoder(session), version
            return self._geocoder

    def get(self, session: Session | None = None) -> Geocoder:
        """The geocoder for the regions in the database now; uses ``session`` when given (the
        request's own connection) else a short session of its own."""
        if session is not None:
            return self._current(session)
        with self._sessionmaker() as own:
            return self._current(own)

    def reload(self) -> Geocoder:
        """Rebuild now (startup)."""
        with self._sessionmaker() as session, self._lock:
            self._geocoder, self._version = load_geocoder(session), regions_version(session)
            return self._geocoder
