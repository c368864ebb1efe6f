"""CAP 1.2 conformance of the warnings written and the alerts read.

The standard's required elements, order and value lists are written out here from the OASIS CAP
1.2 specification (section 3.2), independently of ``dispatch.reporting.cap``, and every message
the writer produces is checked against them; hostile and broken inputs give :class:`CapError`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from dispatch.reporting.cap import Alert, Area, CapError, Circle, Info, cap_time, to_xml
from dispatch.reporting.cap_read import area_geometry, parse

VECTORS = Path(__file__).resolve().parents[3] / "vectors" / "cap"
NS = "{urn:oasis:names:tc:emergency:cap:1.2}"
# CAP 1.2 section 3.2: element → (required, value list or None), in document order.
ALERT_SPEC = [
    ("identifier", True, None), ("sender", True, None), ("sent", True, None),
    ("status", True, {"Actual", "Exercise", "System", "Test", "Draft"}),
    ("msgType", True, {"Alert", "Update", "Cancel", "Ack", "Error"}),
    ("source", False, None), ("scope", True, {"Public", "Restricted", "Private"}),
    ("restriction", False, None), ("addresses", False, None), ("code", False, None),
    ("note", False, None), ("references", False, None), ("incidents", False, None),
    ("info", False, None),
]
INFO_SPEC = [
    ("language", False, None),
    ("category", True, {"Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env",
                        "Transport", "Infra", "CBRNE", "Other"}),
    ("event", True, None),
    ("responseType", False, {"Shelter", "Evacuate", "Prepare", "Execute", "Avoid", "Monitor",
                             "Assess", "AllClear", "None"}),
    ("urgency", True, {"Immediate", "Expected", "Future", "Past", "Unknown"}),
    ("severity", True, {"Extreme", "Severe", "Moderate", "Minor", "Unknown"}),
    ("certainty", True, {"Observed", "Likely", "Possible", "Unlikely", "Unknown"}),
    ("audience", False, None), ("eventCode", False, None), ("effective", False, None),
    ("onset", False, None), ("expires", False, None), ("senderName", False, None),
    ("headline", False, None), ("description", False, None), ("instruction", False, None),
    ("web", False, None), ("contact", False, None), ("parameter", False, None),
    ("resource", False, None), ("area", False, None),
]
AREA_SPEC = [("areaDesc", True, None), ("polygon", False, None), ("circle", False, None),
             ("geocode", False, None), ("altitude", False, None), ("ceiling", False, None)]
CAP_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[-+]\d{2}:\d{2}$"


def _conforms(el, spec) -> None:
    names = [etree.QName(c).localname for c in el if isinstance(c.tag, str)]
    order = [n for n, _, _ in spec]
    assert all(n in order for n in names), names
    assert [order.index(n) for n in names] == sorted(order.index(n) for n in names), names
    for name, required, allowed in spec:
        found = el.findall(NS + name)
        if required:
            assert found, f"<{name}> missing"
        if allowed is not None:
            assert all(f.text in allowed for f in found), (name, [f.text for f in found])


def assert_cap12(xml: bytes) -> None:
    root = etree.fromstring(xml)
    assert root.tag == NS + "alert"
    _conforms(root, ALERT_SPEC)
    for tag in ("identifier", "sender"):
        assert re.match(r"^[^\s,<&]+$", root.findtext(NS + tag))
    for el in root.iter(NS + "sent", NS + "effective", NS + "onset", NS + "expires"):
        assert re.match(CAP_TIME, el.text) and not el.text.endswith("Z"), el.text
    for info in root.findall(NS + "info"):
        _conforms(info, INFO_SPEC)
        for area in info.findall(NS + "area"):
            _conforms(area, AREA_SPEC)
            for poly in area.findall(NS + "polygon"):
                pts = poly.text.split()
                assert len(pts) >= 4 and pts[0] == pts[-1]
                for p in pts:
                    lat, lon = map(float, p.split(","))
                    assert -90 <= lat <= 90 and -180 <= lon <= 180
            for circle in area.findall(NS + "circle"):
                centre, radius = circle.text.split()
                assert float(radius) >= 0 and len(centre.split(",")) == 2


def warning(**changes) -> Alert:
    sent = datetime(2026, 11, 3, 10, 0, tzinfo=timezone(timedelta(hours=8)))
    area = Area("Kecamatan Bangli",
                polygons=(((-8.5, 115.3), (-8.4, 115.3), (-8.4, 115.4), (-8.5, 115.3)),),
                circles=(Circle(-8.45, 115.35, 2.5),), geocodes=(("KEMENDAGRI", "51.06.01"),))
    infos = tuple(Info(categories=("Fire",), event=ev, urgency="Immediate", severity="Severe",
                       certainty="Observed", language=lang, response_types=("Avoid",),
                       effective=sent, expires=sent + timedelta(hours=3), headline=ev,
                       instruction="Jauhi lokasi", areas=(area,))
                  for lang, ev in (("id-ID", "Kebakaran gudang"), ("en-US", "Warehouse fire")))
    values = dict(identifier="51.06-112-1", sender="112.bangli.siaga", sent=sent,
                  status="Actual", msg_type="Alert", scope="Public", infos=infos)
    values.update(changes)
    return Alert(**values)


def test_written_warning_conforms_and_reads_back_equal():
    alert = warning()
    xml = to_xml(alert)
    assert_cap12(xml)
    assert b"<language>id-ID</language>" in xml and b"<language>en-US</language>" in xml
    assert parse(xml) == alert


def test_utc_is_written_minus_zero():
    assert cap_time(datetime(2026, 11, 3, 2, 0, tzinfo=UTC)) == "2026-11-03T02:00:00-00:00"
    with pytest.raises(CapError):
        cap_time(datetime(2026, 11, 3, 2, 0))


@pytest.mark.parametrize("changes, needle", [
    ({"status": "Real"}, "status"), ({"msg_type": "Warning"}, "msgType"),
    ({"scope": "Everyone"}, "scope"), ({"identifier": "has space"}, "identifier"),
    ({"sender": "a,b"}, "sender"), ({"infos": ()}, "info"),
    ({"scope": "Restricted"}, "restriction"), ({"msg_type": "Cancel"}, "references"),
])
def test_writer_refuses_what_the_standard_forbids(changes, needle):
    with pytest.raises(CapError, match=needle):
        to_xml(warning(**changes))


def test_bmkg_style_alert_reads_with_areas_as_geometry():
    alert = parse((VECTORS / "bmkg_like_gempa.xml").read_bytes())
    assert alert.sender == "uji@bmkg.example" and len(alert.infos) == 2
    info = alert.infos[0]
    assert info.language == "id-ID" and info.categories == ("Met",)
    assert info.expires == datetime(2026, 11, 3, 6, 15, tzinfo=UTC)
    geom = area_geometry(alert)
    assert geom is not None and len(geom.geoms) == 2
    assert geom.geoms[0].bounds == pytest.approx((115.3, -8.5, 115.4, -8.4)) or \
        geom.geoms[1].bounds == pytest.approx((115.3, -8.5, 115.4, -8.4))
    circle = min(geom.geoms, key=lambda g: g.area)
    # 5 km radius: about 0.045 degrees of latitude
    assert circle.bounds[3] - circle.bounds[1] == pytest.approx(2 * 5 / 111.2, rel=0.01)


@pytest.mark.parametrize("mutate, needle", [
    (lambda s: s.replace("<status>Actual</status>", "<status>Real</status>"), "status"),
    (lambda s: s.replace("<urgency>Immediate</urgency>", "", 1), "urgency"),
    (lambda s: s.replace("<category>Met</category>", "<category>Weather</category>", 1),
     "category"),
    (lambda s: s.replace("2026-11-03T10:15:00+07:00", "2026-11-03T03:15:00Z", 1), "sent"),
    (lambda s: s.replace("<scope>Public</scope>", "").replace(
        "<msgType>Alert</msgType>", "<msgType>Alert</msgType><scope>Public</scope>"), None),
    (lambda s: s.replace("<sender>uji@bmkg.example</sender>", "").replace(
        "<scope>Public</scope>", "<scope>Public</scope><sender>x</sender>"), "order"),
    (lambda s: s.replace("-8.50,115.30</polygon>", "-8.50,115.31</polygon>", 1), "polygon"),
    (lambda s: s.replace("<circle>-8.25,115.35 5</circle>", "<circle>nope</circle>"), "circle"),
    (lambda s: s.replace("urn:oasis:names:tc:emergency:cap:1.2", "urn:x"), "namespace"),
    (lambda s: s.replace("<identifier>", "<bogus/><identifier>"), "unknown"),
])
def test_reader_lists_the_problem(mutate, needle):
    text = (VECTORS / "bmkg_like_gempa.xml").read_text(encoding="utf-8")
    data = mutate(text).encode("utf-8")
    if needle is None:  # a harmless edit must still parse
        assert parse(data).scope == "Public"
        return
    with pytest.raises(CapError, match=needle):
        parse(data)


def test_a_signature_of_another_namespace_may_follow():
    text = (VECTORS / "bmkg_like_gempa.xml").read_text(encoding="utf-8")
    signed = text.replace("</alert>", '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">'
                                      "<SignedInfo/></Signature></alert>")
    assert parse(signed.encode("utf-8")).identifier == "CBT20261103101500_uji"


def test_reader_resolves_no_entities():
    evil = (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&x;</identifier>'
            b'</alert>')
    with pytest.raises(CapError) as err:
        parse(evil)
    assert "root:" not in str(err.value)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_reader_never_raises_anything_but_cap_error(data):
    try:
        parse(data)
    except CapError:
        pass


@settings(max_examples=100, deadline=None)
@given(event=st.text(min_size=1, max_size=40).filter(lambda s: s.strip()),
       severity=st.sampled_from(["Extreme", "Severe", "Moderate", "Minor", "Unknown"]),
       radius=st.floats(min_value=0, max_value=500, allow_nan=False))
def test_written_warnings_always_conform(event, severity, radius):
    base = warning()
    infos = tuple(Info(categories=i.categories, event=event, urgency=i.urgency,
                       severity=severity, certainty=i.certainty, language=i.language,
                       areas=(Area("X", circles=(Circle(-8.4, 115.3, radius),)),))
                  for i in base.infos)
    try:
        xml = to_xml(warning(infos=infos))
    except CapError:
        assert any(ord(c) < 32 and c not in "\t\n\r" for c in event)
        return
    assert_cap12(xml)
