"""Load the agencies/SLA configuration and the illustrative fleets into the database.

Idempotent: rows are matched on their natural keys (region + agency code, agency + category,
region + station code, region + call sign) and updated in place; nothing is duplicated. Units'
statuses are left as they are on a re-seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.config import DispatchConfig
from dispatch.exceptions import DispatchConfigError
from dispatch.incident_records import to_geom
from dispatch.models import Agency, SlaRule, Station, Unit
from dispatch.sla_rules_service import seed_default_rule_set
from geo.types import LonLat
from tracking.service import register_device

DATA_DIR = Path(__file__).with_name("data")


@dataclass
class SeedReport:
    kode_kab: str
    agencies: int = 0
    sla_rules: int = 0
    stations: int = 0
    units: int = 0
    fleet_file: str | None = None
    notes: list[str] = field(default_factory=list)


def fleet_path(kode_kab: str, data_dir: Path = DATA_DIR) -> Path:
    return data_dir / f"fleet_{kode_kab}.yaml"


def _upsert(session: Session, model: Any, keys: dict[str, Any], values: dict[str, Any]) -> Any:
    row = session.scalars(select(model).filter_by(**keys)).first()
    if row is None:
        row = model(**keys)
        session.add(row)
    for k, v in values.items():
        setattr(row, k, v)
    return row


def seed_region(session: Session, config: DispatchConfig, kode_kab: str, *,
                fleet: Path | dict | None = None) -> SeedReport:
    """Agencies, one SLA row per agency × category, the default Perbup rule set (when the region
    has none yet) and (if given) the fleet of one region."""
    region = config.region(kode_kab)
    report = SeedReport(kode_kab)
    agencies: dict[str, Agency] = {}
    for spec in region.agencies:
        agencies[spec.code] = _upsert(
            session, Agency, {"kode_kab": kode_kab, "code": spec.code},
            {"name": spec.name, "name_en": spec.name_en, "kind": spec.kind,
             "standby_contact": spec.standby_contact, "handoff_number": spec.handoff_number})
        report.agencies += 1
    session.flush()
    existing = {(r.agency_id, r.category): r for r in session.scalars(
        select(SlaRule).where(SlaRule.agency_id.in_([a.id for a in agencies.values()])))}
    for code, agency in agencies.items():
        for category in config.categories:
            sla = config.sla_for(kode_kab, code, category)
            row = existing.get((agency.id, category))
            if row is None:
                row = SlaRule(agency_id=agency.id, category=category)
                session.add(row)
            row.kode_kab, row.ack_min, row.on_scene_min = kode_kab, sla.ack_min, sla.on_scene_min
            report.sla_rules += 1
    if fleet is not None:
        _seed_fleet(session, kode_kab, agencies, fleet, report)
    if seed_default_rule_set(session, config, kode_kab) is not None:
        report.notes.append("Aturan SLA bawaan dimuat / default SLA rule set stored")
    session.flush()
    return report


def _seed_fleet(session: Session, kode_kab: str, agencies: dict[str, Agency],
                fleet: Path | dict, report: SeedReport) -> None:
    if isinstance(fleet, Path):
        report.fleet_file = str(fleet)
        try:
            doc = yaml.safe_load(fleet.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise DispatchConfigError(f"Cannot read fleet file {fleet}: {exc}") from exc
    else:
        doc = fleet
    if str(doc.get("kode_kab")) != kode_kab:
        raise DispatchConfigError(f"Fleet file is for region {doc.get('kode_kab')}, not "
                                  f"{kode_kab}.")
    illustrative = bool(doc.get("illustrative", False))
    if illustrative:
        report.notes.append(str(doc.get("label", "Armada ilustratif / illustrative fleet")))
    stations: dict[str, Station] = {}
    for s in doc.get("stations") or ():
        agency = _agency(agencies, s["agency"], f"station {s.get('code')}")
        pos = LonLat.checked(s["lon"], s["lat"])
        stations[s["code"]] = _upsert(
            session, Station, {"kode_kab": kode_kab, "code": s["code"]},
            {"agency_id": agency.id, "name": s["name"], "geom": to_geom(pos),
             "illustrative": illustrative})
        report.stations += 1
    session.flush()
    for u in doc.get("units") or ():
        agency = _agency(agencies, u["agency"], f"unit {u.get('call_sign')}")
        station = stations.get(u.get("station")) if u.get("station") else None
        if u.get("station") and station is None:
            raise DispatchConfigError(f"unit {u['call_sign']}: unknown station {u['station']}.")
        _upsert(session, Unit, {"kode_kab": kode_kab, "call_sign": u["call_sign"]},
                {"agency_id": agency.id, "vehicle_type": u["vehicle_type"],
                 "profile": u["profile"], "capabilities": list(u.get("capabilities") or []),
                 "station_id": station.id if station else None,
                 "device_id": u.get("device_id"), "illustrative": illustrative})
        report.units += 1
    for unit in session.scalars(select(Unit).where(Unit.kode_kab == kode_kab,
                                                   Unit.status.is_(None))):
        unit.status = "available"
    _register_trackers(session, kode_kab, doc)


def _register_trackers(session: Session, kode_kab: str, doc: dict) -> None:
    """Register the fleet's tracker ids with ``tracking`` (labelled with the call sign)."""
    for u in doc.get("units") or ():
        if u.get("device_id"):
            register_device(session, str(u["device_id"]), kode_kab=kode_kab,
                            label=str(u["call_sign"]))


def _agency(agencies: dict[str, Agency], code: str, where: str) -> Agency:
    if code not in agencies:
        raise DispatchConfigError(f"{where}: agency {code} is not configured for the region.")
    return agencies[code]


def seed(session: Session, config: DispatchConfig, *, regions: list[str] | None = None,
         with_fleet: bool = True, data_dir: Path = DATA_DIR) -> list[SeedReport]:
    """Seed every configured region (or ``regions``), with its fleet file when one exists."""
    reports = []
    for kode in regions or sorted(config.regions):
        path = fleet_path(kode, data_dir)
        reports.append(seed_region(session, config, kode,
                                   fleet=path if with_fleet and path.exists() else None))
    return reports
