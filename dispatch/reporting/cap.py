"""Common Alerting Protocol 1.2 (OASIS, 2010): public warnings out, alerts (such as BMKG's) in.

:func:`to_xml` writes an :class:`Alert` as CAP 1.2 XML (``cap_read.parse`` reads one back); both
check the standard's required elements and its value lists (:func:`problems`) and raise
:class:`CapError` listing every problem. Polygons and circles are WGS 84 ``lat,lon`` as the
standard writes them. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from dispatch.exceptions import DispatchValidationError

NS = "urn:oasis:names:tc:emergency:cap:1.2"
STATUS = ("Actual", "Exercise", "System", "Test", "Draft")
MSG_TYPE = ("Alert", "Update", "Cancel", "Ack", "Error")
SCOPE = ("Public", "Restricted", "Private")
CATEGORY = ("Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport",
            "Infra", "CBRNE", "Other")
RESPONSE_TYPE = ("Shelter", "Evacuate", "Prepare", "Execute", "Avoid", "Monitor", "Assess",
                 "AllClear", "None")
URGENCY = ("Immediate", "Expected", "Future", "Past", "Unknown")
SEVERITY = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
CERTAINTY = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")

#: CAP 1.2 dateTime: seconds, explicit offset, never "Z" (UTC is written -00:00).
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")
_ID_RE = re.compile(r"^[^\s,<&]+$")
_LANG_RE = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
#: Characters XML 1.0 cannot carry (controls other than tab, newline, carriage return).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
MAX_BYTES = 2_000_000


class CapError(DispatchValidationError):
    """A CAP message that does not conform; ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("Pesan CAP 1.2 tidak valid / invalid CAP 1.2 message: "
                         + "; ".join(self.problems))


@dataclass(frozen=True)
class Circle:
    lat: float
    lon: float
    radius_km: float


@dataclass(frozen=True)
class Area:
    area_desc: str
    #: rings of (lat, lon), each closed (first point == last point), at least 4 points
    polygons: tuple[tuple[tuple[float, float], ...], ...] = ()
    circles: tuple[Circle, ...] = ()
    geocodes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Info:
    categories: tuple[str, ...]
    event: str
    urgency: str
    severity: str
    certainty: str
    language: str = "en-US"
    response_types: tuple[str, ...] = ()
    effective: datetime | None = None
    onset: datetime | None = None
    expires: datetime | None = None
    sender_name: str | None = None
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    web: str | None = None
    contact: str | None = None
    areas: tuple[Area, ...] = ()


@dataclass(frozen=True)
class Alert:
    identifier: str
    sender: str
    sent: datetime
    status: str
    msg_type: str
    scope: str
    infos: tuple[Info, ...] = ()
    source: str | None = None
    restriction: str | None = None
    note: str | None = None
    references: str | None = None
    codes: tuple[str, ...] = field(default=())


def cap_time(value: datetime) -> str:
    """A CAP dateTime: ``2026-11-03T10:00:00+08:00``; UTC as ``-00:00``; aware times only."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise CapError(["waktu tanpa zona waktu / time without a timezone"])
    text = value.replace(microsecond=0).isoformat()
    return text[:-6] + "-00:00" if text.endswith("+00:00") else text


def problems(alert: Alert) -> list[str]:
    """Every way ``alert`` breaks CAP 1.2's required elements and value lists (empty if none)."""
    out: list[str] = [f"{name}: karakter kontrol tidak boleh / control characters are not "
                      "allowed" for name, text in _texts(alert) if _NOT_XML.search(text)]

    def one_of(name: str, value: str, allowed: Sequence[str]) -> None:
        if value not in allowed:
            out.append(f"{name}={value!r} bukan salah satu dari / not one of {', '.join(allowed)}")

    for name, value in (("identifier", alert.identifier), ("sender", alert.sender)):
        if not value or not _ID_RE.match(value):
            out.append(f"{name} wajib, tanpa spasi, koma, < atau & / required, without spaces, "
                       f"commas, < or &: {value!r}")
    one_of("status", alert.status, STATUS)
    one_of("msgType", alert.msg_type, MSG_TYPE)
    one_of("scope", alert.scope, SCOPE)
    if alert.scope == "Restricted" and not alert.restriction:
        out.append("scope Restricted memerlukan restriction / requires <restriction>")
    if alert.msg_type in ("Update", "Cancel", "Ack", "Error") and not alert.references:
        out.append(f"msgType {alert.msg_type} memerlukan references / requires <references>")
    if alert.status != "Ack" and alert.msg_type == "Alert" and not alert.infos:
        out.append("alert tanpa info / an Alert needs at least one <info>")
    for i, info in enumerate(alert.infos, 1):
        where = f"info[{i}]"
        if not info.categories:
            out.append(f"{where}: category wajib / at least one <category> is required")
        for c in info.categories:
            one_of(f"{where}.category", c, CATEGORY)
        for r in info.response_types:
            one_of(f"{where}.responseType", r, RESPONSE_TYPE)
        if not info.event.strip():
            out.append(f"{where}: event wajib / <event> is required")
        one_of(f"{where}.urgency", info.urgency, URGENCY)
        one_of(f"{where}.severity", info.severity, SEVERITY)
        one_of(f"{where}.certainty", info.certainty, CERTAINTY)
        if not _LANG_RE.match(info.language):
            out.append(f"{where}: language bukan tag RFC 3066 / not an RFC 3066 tag")
        for j, area in enumerate(info.areas, 1):
            out += _area_problems(f"{where}.area[{j}]", area)
    return out


def _texts(alert: Alert) -> list[tuple[str, str]]:
    """Every text of the alert with its element name."""
    found = [(k, v) for k, v in vars(alert).items() if isinstance(v, str)]
    found += [("code", c) for c in alert.codes]
    for info in alert.infos:
        found += [(k, v) for k, v in vars(info).items() if isinstance(v, str)]
        found += [("category", c) for c in info.categories + info.response_types]
        for area in info.areas:
            found.append(("areaDesc", area.area_desc))
            found += [("geocode", f"{n}{v}") for n, v in area.geocodes]
    return found


def _area_problems(where: str, area: Area) -> list[str]:
    out = []
    if not area.area_desc.strip():
        out.append(f"{where}: areaDesc wajib / <areaDesc> is required")
    for ring in area.polygons:
        if len(ring) < 4 or ring[0] != ring[-1]:
            out.append(f"{where}: polygon perlu >= 4 titik dan tertutup / a polygon needs at "
                       "least 4 points, the first equal to the last")
        if any(not (-90 <= lat <= 90 and -180 <= lon <= 180) for lat, lon in ring):
            out.append(f"{where}: koordinat polygon di luar WGS 84 / polygon outside WGS 84")
    for c in area.circles:
        if not (-90 <= c.lat <= 90 and -180 <= c.lon <= 180) or not c.radius_km >= 0:
            out.append(f"{where}: circle tidak valid / invalid circle")
    return out


def _sub(parent: etree._Element, tag: str, text: str | None) -> None:
    if text is not None and text != "":
        etree.SubElement(parent, f"{{{NS}}}{tag}").text = text


def _pair(lat: float, lon: float) -> str:
    return f"{lat:.6f},{lon:.6f}".replace("-0.000000", "0.000000")


def to_xml(alert: Alert) -> bytes:
    """The alert as CAP 1.2 XML (UTF-8, elements in the order the standard fixes)."""
    found = problems(alert)
    if found:
        raise CapError(found)
    root = etree.Element(f"{{{NS}}}alert", nsmap={None: NS})
    for tag, text in (("identifier", alert.identifier), ("sender", alert.sender),
                      ("sent", cap_time(alert.sent)), ("status", alert.status),
                      ("msgType", alert.msg_type), ("source", alert.source),
                      ("scope", alert.scope), ("restriction", alert.restriction)):
        _sub(root, tag, text)
    for code in alert.codes:
        _sub(root, "code", code)
    _sub(root, "note", alert.note)
    _sub(root, "references", alert.references)
    for info in alert.infos:
        el = etree.SubElement(root, f"{{{NS}}}info")
        _sub(el, "language", info.language)
        for c in info.categories:
            _sub(el, "category", c)
        _sub(el, "event", info.event)
        for r in info.response_types:
            _sub(el, "responseType", r)
        for tag, text in (("urgency", info.urgency), ("severity", info.severity),
                          ("certainty", info.certainty)):
            _sub(el, tag, text)
        for tag, when in (("effective", info.effective), ("onset", info.onset),
                          ("expires", info.expires)):
            _sub(el, tag, None if when is None else cap_time(when))
        for tag, text in (("senderName", info.sender_name), ("headline", info.headline),
                          ("description", info.description), ("instruction", info.instruction),
                          ("web", info.web), ("contact", info.contact)):
            _sub(el, tag, text)
        for area in info.areas:
            a = etree.SubElement(el, f"{{{NS}}}area")
            _sub(a, "areaDesc", area.area_desc)
            for ring in area.polygons:
                _sub(a, "polygon", " ".join(_pair(lat, lon) for lat, lon in ring))
            for circle in area.circles:
                _sub(a, "circle", f"{_pair(circle.lat, circle.lon)} {circle.radius_km:g}")
            for name, value in area.geocodes:
                g = etree.SubElement(a, f"{{{NS}}}geocode")
                _sub(g, "valueName", name)
                _sub(g, "value", value)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
