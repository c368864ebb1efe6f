"""Which agencies (OPD) and regencies an event of the live stream involves, looked up in PostGIS.

A repository for :class:`api.live.LiveHub`: it resolves the incident, unit and device ids of a
window's events to agency codes (``agencies``) and regency codes (``regencies``, for tenancy) in
at most three queries each and caches the answers for ``ttl_s`` seconds (agencies join an
incident at triage, so the cache is short).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import Agency, Incident, IncidentAgency, Unit
from tracking.models import Device


class DbAgencyScope:
    """Agency codes per incident id, unit id and device id (cached, thread-safe enough: the
    hub calls it from one thread at a time)."""

    def __init__(self, sessionmaker: Callable[[], Session], ttl_s: float = 5.0) -> None:
        self._sessionmaker = sessionmaker
        self._ttl_s = ttl_s
        self._cache: dict[tuple[str, Any], tuple[float, frozenset[str]]] = {}
        self._kab_cache: dict[tuple[str, Any], tuple[float, frozenset[str]]] = {}

    def regencies(self, refs: Iterable[tuple[str, Any]]) -> dict[tuple[str, Any],
                                                                  frozenset[str]]:
        """``("incident", id)``, ``("unit", id)``, ``("device", id)`` → regency codes."""
        now = time.monotonic()
        out: dict[tuple[str, Any], frozenset[str]] = {}
        missing: dict[str, set[Any]] = {"incident": set(), "unit": set(), "device": set()}
        for ref in set(refs):
            hit = self._kab_cache.get(ref)
            if hit is not None and now - hit[0] < self._ttl_s:
                out[ref] = hit[1]
            else:
                missing[ref[0]].add(ref[1])
        if any(missing.values()):
            looked = self._lookup_regencies(missing)
            for kind, ids in missing.items():
                for ident in ids:
                    codes = frozenset(looked.get((kind, ident), ()))
                    self._kab_cache[(kind, ident)] = (now, codes)
                    out[(kind, ident)] = codes
        if len(self._kab_cache) > 50_000:
            self._kab_cache = {k: v for k, v in self._kab_cache.items()
                               if now - v[0] < self._ttl_s}
        return out

    def _lookup_regencies(self, missing: dict[str, set[Any]]) -> dict[tuple[str, Any], set[str]]:
        found: dict[tuple[str, Any], set[str]] = {}
        incident_ids = [i for i in missing["incident"] if isinstance(i, int)]
        unit_ids = [i for i in missing["unit"] if isinstance(i, int)]
        device_ids = [str(d) for d in missing["device"]]
        with self._sessionmaker() as session:
            queries = []
            if incident_ids:
                queries.append(("incident", select(Incident.id, Incident.kode_kab)
                                .where(Incident.id.in_(incident_ids))))
            if unit_ids:
                queries.append(("unit", select(Unit.id, Unit.kode_kab)
                                .where(Unit.id.in_(unit_ids))))
            if device_ids:  # a tracker's registered regency, and its unit's
                queries.append(("device", select(Device.device_id, Device.kode_kab)
                                .where(Device.device_id.in_(device_ids),
                                       Device.kode_kab.is_not(None))))
                queries.append(("device", select(Unit.device_id, Unit.kode_kab)
                                .where(Unit.device_id.in_(device_ids))))
            for kind, stmt in queries:
                for ident, kode_kab in session.execute(stmt):
                    found.setdefault((kind, ident), set()).add(kode_kab)
        return found

    def _fresh(self, key: tuple[str, Any], now: float) -> frozenset[str] | None:
        hit = self._cache.get(key)
        return hit[1] if hit is not None and now - hit[0] < self._ttl_s else None

    def agencies(self, refs: Iterable[tuple[str, Any]]) -> dict[tuple[str, Any], frozenset[str]]:
        """``("incident", id)``, ``("unit", id)``, ``("device", id)`` → agency codes."""
        now = time.monotonic()
        out: dict[tuple[str, Any], frozenset[str]] = {}
        missing: dict[str, set[Any]] = {"incident": set(), "unit": set(), "device": set()}
        for ref in set(refs):
            found = self._fresh(ref, now)
            if found is None:
                missing[ref[0]].add(ref[1])
            else:
                out[ref] = found
        if any(missing.values()):
            looked = self._lookup(missing)
            for kind, ids in missing.items():
                for ident in ids:
                    codes = frozenset(looked.get((kind, ident), ()))
                    self._cache[(kind, ident)] = (now, codes)
                    out[(kind, ident)] = codes
        if len(self._cache) > 50_000:
            self._cache = {k: v for k, v in self._cache.items() if now - v[0] < self._ttl_s}
        return out

    def _lookup(self, missing: dict[str, set[Any]]) -> dict[tuple[str, Any], set[str]]:
        found: dict[tuple[str, Any], set[str]] = {}
        incident_ids = [i for i in missing["incident"] if isinstance(i, int)]
        unit_ids = [i for i in missing["unit"] if isinstance(i, int)]
        device_ids = [str(d) for d in missing["device"]]
        with self._sessionmaker() as session:
            if incident_ids:
                rows = session.execute(
                    select(IncidentAgency.incident_id, Agency.code)
                    .join(Agency, Agency.id == IncidentAgency.agency_id)
                    .where(IncidentAgency.incident_id.in_(incident_ids)))
                for incident_id, code in rows:
                    found.setdefault(("incident", incident_id), set()).add(code)
            if unit_ids:
                rows = session.execute(select(Unit.id, Agency.code)
                                       .join(Agency, Agency.id == Unit.agency_id)
                                       .where(Unit.id.in_(unit_ids)))
                for unit_id, code in rows:
                    found.setdefault(("unit", unit_id), set()).add(code)
            if device_ids:
                rows = session.execute(select(Unit.device_id, Agency.code)
                                       .join(Agency, Agency.id == Unit.agency_id)
                                       .where(Unit.device_id.in_(device_ids)))
                for device_id, code in rows:
                    found.setdefault(("device", device_id), set()).add(code)
        return found
