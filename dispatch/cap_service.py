"""CAP 1.2 in the service layer: import alerts (such as BMKG's) as planner notices of a regency,
list them, and build a public warning over kecamatan polygons or a circle round an incident.

Functions take ``*, session`` and a :class:`Scope`; they never commit. A regency or incident
outside the scope is reported as not found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import MultiPolygon, Polygon
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dispatch import audit
from dispatch.exceptions import IncidentNotFound
from dispatch.models import Incident
from dispatch.notice_models import CapNotice
from dispatch.reporting.cap import Alert, Area, Circle, Info, to_xml
from dispatch.reporting.cap_read import area_geometry, parse
from dispatch.scope import Scope
from geo.exceptions import RegionNotFoundError
from geo.models import Kecamatan, Region

#: Tolerance (degrees, ~50 m) used to simplify kecamatan outlines written as CAP polygons.
SIMPLIFY_DEG = 0.0005


@dataclass(frozen=True)
class ImportResult:
    notice: CapNotice
    created: bool


def _region(session: Session, scope: Scope, kode_kab: str) -> Region:
    region = session.get(Region, kode_kab) if scope.allows(kode_kab) else None
    if region is None:
        raise RegionNotFoundError(
            f"wilayah {kode_kab} tidak ditemukan / region {kode_kab} not found")
    return region


def import_notice(session: Session, *, scope: Scope, kode_kab: str, xml: bytes, actor: str,
                  now: datetime) -> ImportResult:
    """Validate one CAP alert whole, then store it as a notice of ``kode_kab`` (a re-import of
    the same sender and identifier replaces it). Raises ``CapError`` listing every problem."""
    _region(session, scope, kode_kab)
    alert = parse(xml)
    info = _preferred_info(alert)
    geom = area_geometry(alert)
    notice = session.scalars(select(CapNotice).where(
        CapNotice.kode_kab == kode_kab, CapNotice.sender == alert.sender,
        CapNotice.identifier == alert.identifier).with_for_update()).first()
    created = notice is None
    if notice is None:
        notice = CapNotice(kode_kab=kode_kab, identifier=alert.identifier, sender=alert.sender)
        session.add(notice)
    notice.sent, notice.status, notice.msg_type = alert.sent, alert.status, alert.msg_type
    notice.scope = alert.scope
    notice.language = info.language if info else "en-US"
    notice.event = info.event if info else ""
    notice.category = list(info.categories) if info else []
    notice.urgency = info.urgency if info else "Unknown"
    notice.severity = info.severity if info else "Unknown"
    notice.certainty = info.certainty if info else "Unknown"
    notice.headline = info.headline if info else None
    notice.description = info.description if info else None
    notice.instruction = info.instruction if info else None
    notice.effective = info.effective if info else None
    notice.onset = info.onset if info else None
    notice.expires = info.expires if info else None
    notice.area_desc = "; ".join(a.area_desc for a in info.areas) if info else ""
    notice.geom = None if geom is None else from_shape(geom, srid=4326)
    notice.xml = xml.decode("utf-8", errors="replace")
    notice.imported_at, notice.imported_by = now, actor
    session.flush()
    audit.record(session, actor=actor, at=now, entity="cap_notice", entity_id=notice.id,
                 action="cap_imported" if created else "cap_reimported", kode_kab=kode_kab,
                 after={"sender": alert.sender, "identifier": alert.identifier,
                        "msg_type": alert.msg_type, "event": notice.event})
    return ImportResult(notice=notice, created=created)


def _preferred_info(alert: Alert) -> Info | None:
    """The Indonesian ``<info>`` if there is one, else the first."""
    for info in alert.infos:
        if info.language.lower().startswith("id"):
            return info
    return alert.infos[0] if alert.infos else None


def list_notices(session: Session, *, scope: Scope, kode_kab: str,
                 active_at: datetime | None = None) -> list[CapNotice]:
    """Notices of ``kode_kab``, newest first; with ``active_at`` only those not yet expired."""
    _region(session, scope, kode_kab)
    stmt = select(CapNotice).where(CapNotice.kode_kab == kode_kab)
    if active_at is not None:
        stmt = stmt.where(or_(CapNotice.expires.is_(None), CapNotice.expires > active_at))
    return list(session.scalars(stmt.order_by(CapNotice.sent.desc(), CapNotice.id.desc())))


def notice_geometry(notice: CapNotice) -> MultiPolygon | None:
    return None if notice.geom is None else to_shape(notice.geom)


@dataclass(frozen=True)
class WarningText:
    """What a warning says, in one language (``id-ID`` or ``en-US``)."""

    language: str
    event: str
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None


def public_warning(session: Session, *, scope: Scope, kode_kab: str, texts: Sequence[WarningText],
                   categories: Sequence[str], urgency: str, severity: str, certainty: str,
                   response_types: Sequence[str], sent: datetime, expires_in_min: float,
                   kecamatan: Sequence[str] = (), incident_id: int | None = None,
                   radius_km: float = 1.0, status: str = "Actual") -> bytes:
    """A CAP 1.2 public warning of ``kode_kab`` (one ``<info>`` per language) over the given
    kecamatan outlines and/or a circle round an incident; XML bytes."""
    region = _region(session, scope, kode_kab)
    areas: list[Area] = []
    if kecamatan:
        rows = session.execute(select(Kecamatan.kode_kec, Kecamatan.nama_kec, Kecamatan.geom)
                               .where(Kecamatan.kode_kab == kode_kab,
                                      Kecamatan.kode_kec.in_(list(kecamatan)))
                               .order_by(Kecamatan.kode_kec)).all()
        missing = sorted(set(kecamatan) - {r[0] for r in rows})
        if missing:
            raise RegionNotFoundError(f"kecamatan tidak ditemukan / kecamatan not found: "
                                      f"{', '.join(missing)}")
        areas += [Area(area_desc=f"Kecamatan {n}, {region.nama_kab}",
                       polygons=_rings(to_shape(g)), geocodes=(("KEMENDAGRI", k),))
                  for k, n, g in rows]
    if incident_id is not None:
        inc = session.get(Incident, incident_id)
        if inc is None or inc.kode_kab != kode_kab or not scope.allows(inc.kode_kab):
            raise IncidentNotFound(f"kejadian {incident_id} tidak ditemukan / "
                                   f"incident {incident_id} not found")
        if inc.drill:  # a warning about a drill (latihan) never goes out as an actual alert
            status = "Exercise"
        point = to_shape(inc.geom)
        desc = ", ".join(x for x in (inc.nama_desa, inc.nama_kec, region.nama_kab) if x)
        areas.append(Area(area_desc=desc or region.nama_kab,
                          circles=(Circle(lat=point.y, lon=point.x, radius_km=radius_km),)))
    infos = tuple(Info(categories=tuple(categories), event=t.event, urgency=urgency,
                       severity=severity, certainty=certainty, language=t.language,
                       response_types=tuple(response_types), effective=sent,
                       expires=sent + timedelta(minutes=expires_in_min),
                       sender_name=f"Layanan 112 {region.nama_kab}", headline=t.headline,
                       description=t.description, instruction=t.instruction,
                       areas=tuple(areas)) for t in texts)
    sender = f"siaga.112.{kode_kab}"
    identifier = f"{sender}.{sent.strftime('%Y%m%dT%H%M%S')}"
    return to_xml(Alert(identifier=identifier, sender=sender, sent=sent, status=status,
                        msg_type="Alert", scope="Public", infos=infos))


def _rings(geom: object) -> tuple[tuple[tuple[float, float], ...], ...]:
    """Outer rings of a (multi)polygon, simplified, as closed (lat, lon) rings."""
    polys = [geom] if isinstance(geom, Polygon) else list(getattr(geom, "geoms", []))
    rings = []
    for poly in polys:
        simple = poly.simplify(SIMPLIFY_DEG, preserve_topology=True)
        coords = list(getattr(simple, "exterior", poly.exterior).coords)
        if len(coords) >= 4:
            rings.append(tuple((round(y, 6), round(x, 6)) for x, y in coords))
    return tuple(rings)
