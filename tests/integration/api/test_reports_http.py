"""The report and CAP routes through the real app: file types and names, roles, bilingual 4xx,
CAP notices stored and listed, warnings that conform to CAP 1.2."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.integration.dispatch.report_month import report_month  # noqa: F401
from tests.unit.dispatch.reporting.test_cap import VECTORS, assert_cap12

URL = "/api/v1/reports/monthly"


def test_admin_gets_the_pdf_viewer_the_xlsx_planner_the_csv(client_as, report_month):  # noqa: F811
    q = {"kode_kab": report_month.kode_kab, "month": report_month.month}
    r = client_as("admin").get(URL, params=q)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf" and r.content[:5] == b"%PDF-"
    assert r.headers["content-disposition"] == \
        'attachment; filename="laporan-sla-51.06-2019-03.pdf"'
    r = client_as("viewer").get(URL, params=q | {"format": "xlsx", "lang": "en"})
    assert r.status_code == 200, r.text
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames[:2] == ["Summary", "Incident Register"]
    register = list(wb["Incident Register"].iter_rows(values_only=True))
    assert [row[0] for row in register[1:]] == report_month.incident_ids
    r = client_as("planner").get(URL, params=q | {"format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.decode("utf-8-sig").count("\r\n") == 1 + 4


def test_roles_and_bad_input(client_as, report_month):  # noqa: F811
    q = {"kode_kab": report_month.kode_kab, "month": report_month.month}
    assert client_as("agency").get(URL, params=q).status_code == 403
    r = client_as("admin").get(URL, params=q | {"month": "2019-13"})
    assert r.status_code == 422
    err = r.json()["error"]
    assert "bulan" in err["message"] and "month" in err["message"]
    assert client_as("admin").get(URL, params=q | {"month": "9999-12"}).status_code == 422
    r = client_as("admin").get(URL, params=q | {"kode_kab": "99.99"})
    assert r.status_code == 404 and "/" in r.json()["error"]["message"]
    assert client_as("admin").get(URL, params=q | {"format": "docx"}).status_code == 422


def _cleanup_notices(engine) -> None:
    with Session(engine) as s:
        s.execute(text("DELETE FROM cap_notice WHERE sender = 'uji@bmkg.example'"))
        s.commit()


def test_cap_notice_import_list_and_reimport(client_as, engine, pilot_regions):
    _cleanup_notices(engine)
    xml = (VECTORS / "bmkg_like_gempa.xml").read_text(encoding="utf-8")
    try:
        planner = client_as("planner")
        r = planner.post("/api/v1/cap/notices", json={"kode_kab": "51.06", "xml": xml})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["created"] is True
        n = body["notice"]
        assert n["language"] == "id-ID" and n["event"] == "Hujan Lebat disertai Petir"
        assert n["geometry"]["type"] == "MultiPolygon" and len(n["geometry"]["coordinates"]) == 2
        assert n["expires"] == "2026-11-03T06:15:00Z"
        r = planner.post("/api/v1/cap/notices", json={"kode_kab": "51.06", "xml": xml})
        assert r.json()["created"] is False
        r = client_as("viewer").get("/api/v1/cap/notices", params={"kode_kab": "51.06"})
        assert [x["identifier"] for x in r.json()["notices"]] == [n["identifier"]]
        r = client_as("viewer").get("/api/v1/cap/notices", params={
            "kode_kab": "51.06", "active_at": "2026-11-03T07:00:00Z"})
        assert r.json()["notices"] == []
        with Session(engine) as s:
            stored = s.execute(text("SELECT count(*) FROM cap_notice WHERE sender = "
                                    "'uji@bmkg.example'")).scalar_one()
        assert stored == 1
        bad = xml.replace("<urgency>Immediate</urgency>", "<urgency>Soon</urgency>")
        r = planner.post("/api/v1/cap/notices", json={"kode_kab": "51.06", "xml": bad})
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_cap"
        assert "urgency" in r.json()["error"]["message"]
        r = planner.post("/api/v1/cap/notices", json={"kode_kab": "99.99", "xml": xml})
        assert r.status_code == 404
        r = client_as("dispatcher").post("/api/v1/cap/notices",
                                         json={"kode_kab": "51.06", "xml": xml})
        assert r.status_code == 403
    finally:
        _cleanup_notices(engine)


def test_public_warning_over_kecamatan_and_incident_conforms(client_as, report_month):  # noqa: F811
    body = {"kode_kab": "51.06", "categories": ["Met"], "severity": "Severe",
            "response_types": ["Evacuate"], "status": "Exercise",
            "kecamatan": [report_month.kecamatan[0][0]],
            "incident_id": report_month.incident_ids[1], "radius_km": 2,
            "texts": [{"language": "id-ID", "event": "Banjir", "headline": "Banjir di Bangli",
                       "instruction": "Segera mengungsi ke tempat tinggi"},
                      {"language": "en-US", "event": "Flood", "headline": "Flood in Bangli"}]}
    r = client_as("dispatcher").post("/api/v1/cap/warnings", json=body)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/cap+xml")
    assert_cap12(r.content)
    xml = r.content.decode("utf-8")
    assert "<language>id-ID</language>" in xml and "<status>Exercise</status>" in xml
    assert xml.count("<polygon>") >= 2 and xml.count("<circle>") == 2  # one area set per info
    assert "+08:00</sent>" in xml  # WITA
    r = client_as("dispatcher").post("/api/v1/cap/warnings",
                                     json=body | {"incident_id": 2**31 - 1})
    assert r.status_code == 404
    r = client_as("dispatcher").post("/api/v1/cap/warnings",
                                     json=body | {"categories": ["Weather"]})
    assert r.status_code == 422
    assert client_as("viewer").post("/api/v1/cap/warnings", json=body).status_code == 403
