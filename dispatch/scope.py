"""Tenancy scope: the regencies (kabupaten/kota) and, for agency desks, the agency of a caller.

Every service-layer read and write takes a :class:`Scope` and filters by it, so a route that
forgets to check cannot leak another regency's rows. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    """What a caller may see and change.

    Attributes
    ----------
    kode_kabs
        Kemendagri codes of the regencies (``"51.06"``) the caller acts for; ``None`` means every
        regency of the installation (system administrators and internal jobs only).
    agency_code
        For an agency (OPD) desk: the one agency whose records it may act on; ``None`` otherwise.
    """

    kode_kabs: frozenset[str] | None
    agency_code: str | None = None

    @classmethod
    def everything(cls) -> Scope:
        """The scope of internal jobs (ingest, scheduler, CLI run by the operator)."""
        return cls(kode_kabs=None)

    @classmethod
    def of(cls, kode_kabs: Iterable[str] | None, agency_code: str | None = None) -> Scope:
        return cls(None if kode_kabs is None else frozenset(kode_kabs), agency_code)

    @property
    def unrestricted(self) -> bool:
        return self.kode_kabs is None

    def allows(self, kode_kab: str | None) -> bool:
        """Whether a row of regency ``kode_kab`` is visible (rows without a regency only to all)."""
        if self.kode_kabs is None:
            return True
        return kode_kab is not None and kode_kab in self.kode_kabs

    def allows_agency(self, agency_code: str | None) -> bool:
        """Whether a row of ``agency_code`` is visible (every agency unless this is a desk)."""
        return self.agency_code is None or agency_code == self.agency_code
