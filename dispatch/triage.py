"""Triage: category → kind, priority, required agencies (pure, data-driven).

The rules come from :class:`~dispatch.config.DispatchConfig`; a dispatcher may override kind,
priority or the agency list, and the result says so (the service audits the override).
"""

from __future__ import annotations

from dataclasses import dataclass

from dispatch.config import KINDS, AgencyRequirement, DispatchConfig
from dispatch.exceptions import DispatchValidationError


@dataclass(frozen=True)
class TriageOverride:
    """A dispatcher's decision replacing parts of the rule's result."""

    kind: str | None = None
    priority: int | None = None
    agencies: tuple[AgencyRequirement, ...] | None = None
    reason: str = ""


@dataclass(frozen=True)
class TriageResult:
    category: str
    kind: str
    priority: int
    agencies: tuple[AgencyRequirement, ...]
    geofence_radius_m: float
    overridden: bool = False
    reason: str = ""
    #: Agencies the rule names that the region does not have (reported, not silently dropped).
    missing_agencies: tuple[str, ...] = ()


def triage(
    config: DispatchConfig, kode_kab: str, category: str, override: TriageOverride | None = None
) -> TriageResult:
    """Apply the region's rule for ``category``, then the dispatcher's ``override`` if given."""
    rule = config.rule_for(kode_kab, category)
    region = config.region(kode_kab)
    known = {a.code for a in region.agencies}
    agencies = rule.agencies
    kind, priority = rule.kind, rule.priority
    overridden, reason = False, ""
    if override is not None:
        if override.kind is not None:
            if override.kind not in KINDS:
                raise DispatchValidationError(f"kind must be one of {KINDS}.")
            kind = override.kind
        if override.priority is not None:
            if not 1 <= override.priority <= 5:
                raise DispatchValidationError("priority must be between 1 (highest) and 5.")
            priority = override.priority
        if override.agencies is not None:
            unknown = [a.agency for a in override.agencies if a.agency not in known]
            if unknown:
                raise DispatchValidationError(
                    f"Instansi tidak ada di wilayah {kode_kab} / agencies not in region "
                    f"{kode_kab}: {', '.join(unknown)}."
                )
            agencies = override.agencies
        overridden, reason = True, override.reason
    missing = tuple(a.agency for a in agencies if a.agency not in known)
    return TriageResult(
        category=category, kind=kind, priority=priority,
        agencies=tuple(a for a in agencies if a.agency in known),
        geofence_radius_m=rule.geofence_radius_m, overridden=overridden, reason=reason,
        missing_agencies=missing,
    )
