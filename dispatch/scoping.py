"""SQL conditions of a tenancy :class:`~dispatch.scope.Scope`, shared by the dispatch services.

Each function returns a WHERE condition for one table: the row's regency (``kode_kab``) must be
one of the scope's, and for an agency desk the row must involve its agency (an incident the
agency takes part in, a unit or assignment of the agency). An unrestricted scope gives ``TRUE``.
Services add these conditions to their queries, so a row outside the caller's scope is never
loaded: a lookup by id finds nothing and raises the usual not-found error (HTTP 404).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, select, true

from dispatch.exceptions import RegionNotFound
from dispatch.models import Agency, Assignment, Incident, IncidentAgency, Station, Unit
from dispatch.scope import Scope

#: The scope of internal jobs and the operator's CLI (every regency, every agency).
EVERYTHING = Scope.everything()


def kab_condition(column: Any, scope: Scope) -> ColumnElement[bool]:
    """``column`` (a ``kode_kab``) is one of the scope's regencies."""
    if scope.kode_kabs is None:
        return true()
    return column.in_(sorted(scope.kode_kabs))


def incident_ids_of_agency(agency_code: str) -> Any:
    """SELECT of the ids of incidents ``agency_code`` takes part in (after triage)."""
    return (select(IncidentAgency.incident_id)
            .join(Agency, Agency.id == IncidentAgency.agency_id)
            .where(Agency.code == agency_code))


def _agency_ids(agency_code: str) -> Any:
    return select(Agency.id).where(Agency.code == agency_code)


def incident_condition(scope: Scope) -> ColumnElement[bool]:
    """Incidents of the scope's regencies (and, for a desk, those its agency takes part in)."""
    cond = kab_condition(Incident.kode_kab, scope)
    if scope.agency_code is not None:
        cond = and_(cond, Incident.id.in_(incident_ids_of_agency(scope.agency_code)))
    return cond


def unit_condition(scope: Scope) -> ColumnElement[bool]:
    """Units of the scope's regencies (and, for a desk, of its agency)."""
    cond = kab_condition(Unit.kode_kab, scope)
    if scope.agency_code is not None:
        cond = and_(cond, Unit.agency_id.in_(_agency_ids(scope.agency_code)))
    return cond


def assignment_condition(scope: Scope) -> ColumnElement[bool]:
    """Assignments of the scope's regencies (and, for a desk, of its agency's units)."""
    cond = kab_condition(Assignment.kode_kab, scope)
    if scope.agency_code is not None:
        cond = and_(cond, Assignment.agency_id.in_(_agency_ids(scope.agency_code)))
    return cond


def agency_condition(scope: Scope) -> ColumnElement[bool]:
    """Agencies (OPD and hand-off lines) of the scope's regencies (all of them: a desk sees
    the other agencies it works with)."""
    return kab_condition(Agency.kode_kab, scope)


def station_condition(scope: Scope) -> ColumnElement[bool]:
    """Stations (posts) of the scope's regencies."""
    return kab_condition(Station.kode_kab, scope)


def check_region(kode_kab: str, scope: Scope) -> str:
    """``kode_kab`` if ``scope`` works for it, else :class:`RegionNotFound` (HTTP 404)."""
    if not scope.allows(kode_kab):
        raise RegionNotFound(kode_kab)
    return kode_kab
