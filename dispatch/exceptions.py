"""Errors raised by the ``dispatch`` package.

Hierarchy::

    DispatchError
    ├── DispatchConfigError      the agencies/SLA/triage file is invalid (nothing was loaded)
    │   └── SlaRuleError         a Perbup SLA rule set is invalid (every problem listed)
    ├── IllegalTransition        a unit or incident status change the lifecycle forbids
    ├── UnitUnavailable          the unit is not in a status that can take this assignment
    ├── DispatchValidationError  input that is well-formed but makes no sense (unknown category...)
    ├── LocationUnresolved       neither a point nor a place name could locate the incident
    └── DispatchNotFound         an id that does not exist
        ├── IncidentNotFound
        ├── UnitNotFound
        ├── AssignmentNotFound
        ├── AgencyNotFound
        └── RegionNotFound       a regency outside the caller's (tenancy scope)

Messages are complete sentences (Bahasa Indonesia first, English after " / ") a person can act on;
``api/errors.py`` maps each class to an HTTP status (404, 409, 422).
"""

from __future__ import annotations


class DispatchError(Exception):
    """Base class of every error raised by ``dispatch``."""


class DispatchConfigError(DispatchError, ValueError):
    """The dispatch configuration file is invalid."""


class SlaRuleError(DispatchConfigError):
    """A Perbup SLA rule set is invalid; ``problems`` lists every problem found (nothing stored)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        listed = "; ".join(self.problems)
        super().__init__(f"Aturan SLA tidak valid, tidak ada yang disimpan / invalid SLA rules, "
                         f"nothing was stored: {listed}")


class IllegalTransition(DispatchError):
    """A status change that the unit or incident lifecycle does not allow."""

    def __init__(self, entity: str, current: str, target: str) -> None:
        self.entity, self.current, self.target = entity, current, target
        super().__init__(
            f"Perubahan status {entity} dari '{current}' ke '{target}' tidak diizinkan / "
            f"{entity} cannot go from '{current}' to '{target}'."
        )


class UnitUnavailable(DispatchError):
    """The unit is already assigned (or out of service): the assignment was not made."""


class DispatchValidationError(DispatchError, ValueError):
    """Input that parses but is not acceptable (unknown category, agency not in region...)."""


class LocationUnresolved(DispatchValidationError):
    """The incident location could not be resolved from the given point or place name."""


class DispatchNotFound(DispatchError, LookupError):
    """Base class of unknown-id errors."""


class IncidentNotFound(DispatchNotFound):
    """No incident with that id."""


class UnitNotFound(DispatchNotFound):
    """No unit with that id."""


class AssignmentNotFound(DispatchNotFound):
    """No assignment with that id."""


class AgencyNotFound(DispatchNotFound):
    """No agency with that code in the region."""


class RegionNotFound(DispatchNotFound):
    """A regency (kabupaten/kota) the caller does not work for, answered as unknown."""

    def __init__(self, kode_kab: str) -> None:
        self.kode_kab = kode_kab
        super().__init__(f"Wilayah {kode_kab} tidak ditemukan / region {kode_kab} not found.")
