"""The data-driven dispatch configuration: agencies (OPD), SLA minutes and triage rules.

Each regency sets its own service levels by regent's regulation (Perbup), so none of this is code:
it is read from YAML (``dispatch/data/agencies.yaml`` by default; extra region files can be merged
on top). Parsing is pure (:func:`parse_config` over plain dicts); :func:`load_config` reads files.

SLA resolution order for (region, agency, category): an explicit ``rules`` entry, then the
agency's own default, then the default for the category's kind, then the region default.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from dispatch.exceptions import DispatchConfigError
from dispatch.lifecycle import AGENCY_ROLES

ROLES = AGENCY_ROLES
KINDS = ("emergency", "public_service")
AGENCY_KINDS = ("internal", "external")
DEFAULT_PATH = Path(__file__).with_name("data") / "agencies.yaml"


@dataclass(frozen=True)
class AgencyRequirement:
    """One agency a category needs: ``role`` is dispatch (send units), standby (notify, may send),
    forward (complaint handed to the OPD, no unit), or handoff (external line: 110, 117, 119)."""

    agency: str
    role: str = "dispatch"
    capabilities: tuple[str, ...] = ()
    units: int = 1


@dataclass(frozen=True)
class CategoryRule:
    code: str
    label_id: str
    label_en: str
    kind: str
    priority: int
    geofence_radius_m: float
    agencies: tuple[AgencyRequirement, ...]


@dataclass(frozen=True)
class AgencySpec:
    code: str
    name: str
    kind: str = "internal"
    standby_contact: str = ""
    handoff_number: str | None = None
    name_en: str = ""


@dataclass(frozen=True)
class SlaMinutes:
    """``start``: the event that starts the on-scene clock (``received`` = the report,
    ``notified`` = the agency notified); ``judge``: ``each`` incident, the ``mean`` or the
    ``p90`` (see :mod:`dispatch.perbup`)."""

    ack_min: float
    on_scene_min: float
    start: str = "notified"
    judge: str = "each"


@dataclass(frozen=True)
class RegionConfig:
    kode_kab: str
    name: str
    agencies: tuple[AgencySpec, ...]
    sla_default: SlaMinutes
    sla_by_kind: Mapping[str, SlaMinutes] = field(default_factory=dict)
    sla_by_agency: Mapping[str, SlaMinutes] = field(default_factory=dict)
    sla_rules: Mapping[tuple[str, str], SlaMinutes] = field(default_factory=dict)
    category_agencies: Mapping[str, tuple[AgencyRequirement, ...]] = field(default_factory=dict)
    note: str = ""

    def agency(self, code: str) -> AgencySpec | None:
        return next((a for a in self.agencies if a.code == code), None)


@dataclass(frozen=True)
class DispatchConfig:
    categories: Mapping[str, CategoryRule]
    regions: Mapping[str, RegionConfig]

    def region(self, kode_kab: str) -> RegionConfig:
        try:
            return self.regions[kode_kab]
        except KeyError:
            raise DispatchConfigError(
                f"Wilayah {kode_kab} belum dikonfigurasi untuk dispatch / region {kode_kab} has "
                f"no dispatch configuration (known: {', '.join(sorted(self.regions))})."
            ) from None

    def category(self, code: str) -> CategoryRule:
        try:
            return self.categories[code]
        except KeyError:
            raise DispatchConfigError(
                f"Kategori '{code}' tidak dikenal / unknown category '{code}' "
                f"(known: {', '.join(sorted(self.categories))})."
            ) from None

    def rule_for(self, kode_kab: str, category: str) -> CategoryRule:
        """The category rule with the region's agency overrides applied."""
        rule = self.category(category)
        region = self.region(kode_kab)
        if category in region.category_agencies:
            rule = replace(rule, agencies=region.category_agencies[category])
        return rule

    def sla_for(self, kode_kab: str, agency: str, category: str) -> SlaMinutes:
        region = self.region(kode_kab)
        if (agency, category) in region.sla_rules:
            return region.sla_rules[(agency, category)]
        if agency in region.sla_by_agency:
            return region.sla_by_agency[agency]
        kind = self.category(category).kind
        return region.sla_by_kind.get(kind, region.sla_default)


def _req(d: Mapping[str, Any], where: str) -> AgencyRequirement:
    if "agency" not in d:
        raise DispatchConfigError(f"{where}: agency requirement without 'agency'.")
    role = d.get("role", "dispatch")
    if role not in ROLES:
        raise DispatchConfigError(f"{where}: role '{role}' is not one of {ROLES}.")
    units = int(d.get("units", 1 if role == "dispatch" else 0))
    return AgencyRequirement(str(d["agency"]), role, tuple(d.get("capabilities") or ()), units)


def _sla(d: Mapping[str, Any], where: str) -> SlaMinutes:
    try:
        sla = SlaMinutes(float(d["ack_min"]), float(d["on_scene_min"]),
                         str(d.get("start", "notified")), str(d.get("judge", "each")))
    except (KeyError, TypeError, ValueError) as exc:
        raise DispatchConfigError(f"{where}: SLA needs numeric ack_min and on_scene_min.") from exc
    if sla.start not in ("received", "notified") or sla.judge not in ("each", "mean", "p90"):
        raise DispatchConfigError(f"{where}: SLA start must be received|notified and judge "
                                  f"each|mean|p90.")
    if sla.ack_min <= 0 or sla.on_scene_min <= 0:
        raise DispatchConfigError(f"{where}: SLA minutes must be positive.")
    return sla


def _category(code: str, d: Mapping[str, Any]) -> CategoryRule:
    where = f"category {code}"
    kind = d.get("kind")
    if kind not in KINDS:
        raise DispatchConfigError(f"{where}: kind must be one of {KINDS}, got {kind!r}.")
    reqs = tuple(_req(a, where) for a in d.get("agencies") or ())
    return CategoryRule(
        code=code, label_id=str(d.get("label_id", code)), label_en=str(d.get("label_en", code)),
        kind=kind, priority=int(d.get("priority", 3)),
        geofence_radius_m=float(d.get("geofence_radius_m", 100.0)), agencies=reqs,
    )


def _region(
    kode: str, d: Mapping[str, Any], categories: Mapping[str, CategoryRule]
) -> RegionConfig:
    where = f"region {kode}"
    agencies = []
    for a in d.get("agencies") or ():
        kind = a.get("kind", "internal")
        if kind not in AGENCY_KINDS or "code" not in a or "name" not in a:
            raise DispatchConfigError(f"{where}: agency needs code, name, kind internal|external.")
        agencies.append(AgencySpec(
            code=str(a["code"]), name=str(a["name"]), kind=kind,
            standby_contact=str(a.get("standby_contact", "")),
            handoff_number=(str(a["handoff_number"]) if a.get("handoff_number") else None),
            name_en=str(a.get("name_en", "")),
        ))
    codes = {a.code for a in agencies}
    sla = d.get("sla") or {}
    rules: dict[tuple[str, str], SlaMinutes] = {}
    for r in sla.get("rules") or ():
        cats = r.get("categories") or [r.get("category")]
        for cat in cats:
            if cat not in categories:
                raise DispatchConfigError(f"{where}: SLA rule for unknown category {cat!r}.")
            rules[(str(r["agency"]), cat)] = _sla(r, where)
    overrides: dict[str, tuple[AgencyRequirement, ...]] = {}
    for cat, reqs in (d.get("categories") or {}).items():
        if cat not in categories:
            raise DispatchConfigError(f"{where}: override for unknown category {cat!r}.")
        overrides[cat] = tuple(_req(a, f"{where} {cat}") for a in reqs)
    for cat, reqs in overrides.items():
        for req in reqs:
            if req.agency not in codes:
                raise DispatchConfigError(f"{where} {cat}: agency {req.agency} not in region.")
    if "default" not in sla:
        raise DispatchConfigError(f"{where}: sla.default is required.")
    return RegionConfig(
        kode_kab=kode, name=str(d.get("name", kode)), agencies=tuple(agencies),
        sla_default=_sla(sla["default"], where),
        sla_by_kind={k: _sla(v, where) for k, v in (sla.get("by_kind") or {}).items()},
        sla_by_agency={k: _sla(v, where) for k, v in (sla.get("by_agency") or {}).items()},
        sla_rules=rules, category_agencies=overrides, note=str(d.get("note", "")),
    )


def parse_config(documents: Iterable[Mapping[str, Any]]) -> DispatchConfig:
    """Merge parsed YAML documents (later ones add categories and regions) into a config."""
    categories: dict[str, CategoryRule] = {}
    raw_regions: dict[str, Mapping[str, Any]] = {}
    for doc in documents:
        if not isinstance(doc, Mapping):
            raise DispatchConfigError("A dispatch configuration document must be a mapping.")
        for code, d in (doc.get("categories") or {}).items():
            categories[str(code)] = _category(str(code), d)
        for kode, d in (doc.get("regions") or {}).items():
            raw_regions[str(kode)] = d
    regions = {k: _region(k, d, categories) for k, d in raw_regions.items()}
    return DispatchConfig(categories=categories, regions=regions)


def load_config(*paths: Path | str | None) -> DispatchConfig:
    """Read the default file plus any extra ``paths`` (None entries are skipped)."""
    files = [DEFAULT_PATH] + [Path(p) for p in paths if p is not None and Path(p) != DEFAULT_PATH]
    docs = []
    for path in files:
        try:
            docs.append(yaml.safe_load(path.read_text(encoding="utf-8")))
        except (OSError, yaml.YAMLError) as exc:
            raise DispatchConfigError(f"Cannot read dispatch configuration {path}: {exc}") from exc
    return parse_config(docs)
