"""Reading CAP 1.2 alerts (such as those BMKG publishes) into :class:`~dispatch.reporting.cap.
Alert` values, and their areas into one shapely geometry. Pure; the XML parser resolves no
entities, loads no DTD and fetches nothing."""

from __future__ import annotations

import math
from datetime import datetime

from lxml import etree
from shapely.geometry import MultiPolygon, Polygon
from shapely.ops import unary_union

from dispatch.reporting.cap import (
    MAX_BYTES,
    NS,
    TIME_RE,
    Alert,
    Area,
    CapError,
    Circle,
    Info,
    problems,
)
from geo.geodesy import EARTH_RADIUS_M

_CIRCLE_SIDES = 64
#: alert children in the order CAP 1.2 fixes (info last), with how many may appear
_ALERT_ORDER = ("identifier", "sender", "sent", "status", "msgType", "source", "scope",
                "restriction", "addresses", "code", "note", "references", "incidents", "info")
_REQUIRED = ("identifier", "sender", "sent", "status", "msgType", "scope")
_INFO_REQUIRED = ("category", "event", "urgency", "severity", "certainty")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           huge_tree=False, remove_comments=True)


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _text(el: etree._Element, tag: str) -> str | None:
    found = el.find(f"{{{NS}}}{tag}")
    return None if found is None or found.text is None else found.text.strip()


def _texts(el: etree._Element, tag: str) -> tuple[str, ...]:
    return tuple((c.text or "").strip() for c in el.findall(f"{{{NS}}}{tag}"))


def _time(value: str | None, name: str, errors: list[str]) -> datetime | None:
    if value is None:
        return None
    if not TIME_RE.match(value):
        errors.append(f"{name}={value!r} bukan waktu CAP (YYYY-MM-DDThh:mm:ss+hh:mm) / "
                      "not a CAP dateTime")
        return None
    return datetime.fromisoformat(value)


def parse(data: bytes) -> Alert:
    """One CAP 1.2 ``<alert>`` from XML bytes; :class:`CapError` lists every problem."""
    if len(data) > MAX_BYTES:
        raise CapError([f"pesan lebih dari / message larger than {MAX_BYTES} bytes"])
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise CapError([f"XML tidak terbaca / unreadable XML: {exc}"]) from None
    if root.tag != f"{{{NS}}}alert":
        raise CapError([f"elemen akar harus alert dalam namespace / the root must be alert in "
                        f"namespace {NS}, got {root.tag!r}"])
    errors: list[str] = []
    # Elements of other namespaces (an XML signature, extensions) may follow, as the schema's
    # trailing ``any namespace="##other"`` allows; CAP's own must be known and in order.
    names = [_local(c) for c in root
             if isinstance(c.tag, str) and etree.QName(c).namespace == NS]
    for tag in _REQUIRED:
        if names.count(tag) != 1:
            errors.append(f"alert harus memuat tepat satu / alert must hold exactly one <{tag}>")
    ranks = [_ALERT_ORDER.index(n) for n in names if n in _ALERT_ORDER]
    if ranks != sorted(ranks):
        errors.append("urutan elemen alert salah / alert elements out of the standard's order")
    unknown = sorted({n for n in names if n not in _ALERT_ORDER})
    if unknown:
        errors.append(f"elemen tidak dikenal / unknown elements: {', '.join(unknown)}")
    sent = _time(_text(root, "sent"), "sent", errors)
    infos = tuple(_info(el, i, errors) for i, el in enumerate(root.findall(f"{{{NS}}}info"), 1))
    alert = Alert(
        identifier=_text(root, "identifier") or "", sender=_text(root, "sender") or "",
        sent=sent or datetime.fromisoformat("1970-01-01T00:00:00+00:00"),
        status=_text(root, "status") or "", msg_type=_text(root, "msgType") or "",
        scope=_text(root, "scope") or "", infos=infos, source=_text(root, "source"),
        restriction=_text(root, "restriction"), note=_text(root, "note"),
        references=_text(root, "references"), codes=_texts(root, "code"),
    )
    errors += problems(alert)
    if errors:
        raise CapError(list(dict.fromkeys(errors)))
    return alert


def _info(el: etree._Element, i: int, errors: list[str]) -> Info:
    where = f"info[{i}]"
    for tag in _INFO_REQUIRED:
        if el.find(f"{{{NS}}}{tag}") is None:
            errors.append(f"{where}: <{tag}> wajib / is required")
    return Info(
        language=_text(el, "language") or "en-US", categories=_texts(el, "category"),
        event=_text(el, "event") or "", response_types=_texts(el, "responseType"),
        urgency=_text(el, "urgency") or "", severity=_text(el, "severity") or "",
        certainty=_text(el, "certainty") or "",
        effective=_time(_text(el, "effective"), f"{where}.effective", errors),
        onset=_time(_text(el, "onset"), f"{where}.onset", errors),
        expires=_time(_text(el, "expires"), f"{where}.expires", errors),
        sender_name=_text(el, "senderName"), headline=_text(el, "headline"),
        description=_text(el, "description"), instruction=_text(el, "instruction"),
        web=_text(el, "web"), contact=_text(el, "contact"),
        areas=tuple(_area(a, f"{where}.area[{j}]", errors)
                    for j, a in enumerate(el.findall(f"{{{NS}}}area"), 1)),
    )


def _area(el: etree._Element, where: str, errors: list[str]) -> Area:
    polygons = []
    for text in _texts(el, "polygon"):
        try:
            ring = tuple(_latlon(p) for p in text.split())
        except ValueError:
            errors.append(f"{where}: polygon tidak terbaca / unreadable polygon")
            continue
        polygons.append(ring)
    circles = []
    for text in _texts(el, "circle"):
        try:
            centre, radius = text.split()
            lat, lon = _latlon(centre)
            circles.append(Circle(lat=lat, lon=lon, radius_km=float(radius)))
        except ValueError:
            errors.append(f"{where}: circle tidak terbaca / unreadable circle {text!r}")
    geocodes = tuple((_text(g, "valueName") or "", _text(g, "value") or "")
                     for g in el.findall(f"{{{NS}}}geocode"))
    return Area(area_desc=_text(el, "areaDesc") or "", polygons=tuple(polygons),
                circles=tuple(circles), geocodes=geocodes)


def _latlon(pair: str) -> tuple[float, float]:
    lat, lon = pair.split(",")
    value = (float(lat), float(lon))
    if not all(math.isfinite(v) for v in value):
        raise ValueError(pair)
    return value


def area_geometry(alert: Alert) -> MultiPolygon | None:
    """Union of every polygon and circle of the alert (lon, lat; EPSG:4326), ``None`` if the
    alert has no polygon or circle."""
    parts = []
    for info in alert.infos:
        for area in info.areas:
            for ring in area.polygons:
                poly = Polygon([(lon, lat) for lat, lon in ring])
                parts.append(poly if poly.is_valid else poly.buffer(0))
            parts += [_circle(c) for c in area.circles]
    parts = [p for p in parts if not p.is_empty]
    if not parts:
        return None
    merged = unary_union(parts)
    if isinstance(merged, Polygon):
        return MultiPolygon([merged])
    if isinstance(merged, MultiPolygon):
        return merged
    polys = [g for g in getattr(merged, "geoms", []) if isinstance(g, Polygon)]
    return MultiPolygon(polys) if polys else None


def _circle(c: Circle) -> Polygon:
    """A circle of ``radius_km`` around its centre as a 64-gon (spherical destination points)."""
    d = c.radius_km * 1000.0 / EARTH_RADIUS_M
    lat1, lon1 = math.radians(c.lat), math.radians(c.lon)
    pts = []
    for k in range(_CIRCLE_SIDES):
        brg = 2 * math.pi * k / _CIRCLE_SIDES
        lat2 = math.asin(math.sin(lat1) * math.cos(d)
                         + math.cos(lat1) * math.sin(d) * math.cos(brg))
        lon2 = lon1 + math.atan2(math.sin(brg) * math.sin(d) * math.cos(lat1),
                                 math.cos(d) - math.sin(lat1) * math.sin(lat2))
        pts.append((math.degrees(lon2), math.degrees(lat2)))
    return Polygon(pts)
