"""The incident panel over HTTP against the real database and geocoder (Kota Yogyakarta):
edits audited with old and new values and re-geocoded, triage override and close/cancel only
with a reason, notes, the SOP checklist (default set, ticks by dispatcher and desk, the
regency's own SOP stored by admins), one timeline of everything and the printable sheet.
Incidents and SOP rows made here are removed afterwards (audit rows stay: append-only)."""

from collections.abc import Iterator
from datetime import datetime

import pytest
import yaml
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dispatch.config import load_config
from dispatch.models import AuditLog, Incident
from dispatch.panel_models import SopStepRow
from dispatch.seed_service import seed_region

KODE = "34.71"
#: Kraton area and a point in Bangli (another regency).
INSIDE, BANGLI = (110.3695, -7.8014), (115.3548, -8.2976)


@pytest.fixture
def panel(engine, client_as, pilot_regions) -> Iterator:
    with Session(engine) as s:
        seed_region(s, load_config(), KODE)
        s.commit()
    made: list[int] = []

    def create(category: str = "fire", triage: bool = True, **extra) -> int:
        d = client_as("dispatcher")
        r = d.post("/api/v1/incidents", json={"category": category, "lon": INSIDE[0],
                                              "lat": INSIDE[1], "kode_kab": KODE,
                                              "description": "awal"} | extra)
        assert r.status_code == 201, r.text
        made.append(r.json()["id"])
        if triage:
            assert d.post(f"/api/v1/incidents/{made[-1]}/triage", json={}).status_code == 200
        return made[-1]

    yield client_as, create
    with Session(engine) as s:
        s.execute(delete(Incident).where(Incident.id.in_(made)))
        s.execute(delete(SopStepRow).where(SopStepRow.kode_kab == KODE))
        s.commit()


def _audit(engine, incident_id: int, prefix: str) -> list[AuditLog]:
    with Session(engine) as s:
        return list(s.scalars(select(AuditLog).where(
            AuditLog.entity == "incident", AuditLog.entity_id == incident_id,
            AuditLog.action.startswith(prefix)).order_by(AuditLog.id)))


def _timeline(client, incident_id: int) -> list[dict]:
    r = client.get(f"/api/v1/incidents/{incident_id}/timeline")
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_edit_is_audited_field_by_field_and_regeocoded(panel, engine):
    client_as, create = panel
    d, iid = client_as("dispatcher"), create(triage=False)
    before = d.get(f"/api/v1/incidents/{iid}").json()
    r = d.patch(f"/api/v1/incidents/{iid}", json={
        "category": "flood", "description": "air setinggi lutut", "place": "Suryatmajan"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["category"], body["description"], body["nama_desa"]) == (
        "flood", "air setinggi lutut", "Suryatmajan")
    assert body["kode_desa"] == "34.71.04.1001" and body["location"] != before["location"]
    edits = {e.action: e for e in _audit(engine, iid, "edit:")}
    assert set(edits) == {"edit:category", "edit:description", "edit:location"}
    assert (edits["edit:category"].before, edits["edit:category"].after) == (
        {"category": "fire"}, {"category": "flood"})
    assert edits["edit:description"].before == {"description": "awal"}
    assert edits["edit:location"].before["nama_desa"] == before["nama_desa"]
    assert edits["edit:location"].after["nama_desa"] == "Suryatmajan"
    texts = [i["text"] for i in _timeline(d, iid) if i["kind"] == "edit"]
    assert any("fire → flood" in t for t in texts) and any("Suryatmajan" in t for t in texts)
    # a map click (point) is re-geocoded too
    r = d.patch(f"/api/v1/incidents/{iid}", json={"lon": INSIDE[0], "lat": INSIDE[1]})
    assert r.status_code == 200 and r.json()["nama_desa"] == before["nama_desa"]
    # nothing changed: no new audit entry
    n = len(_audit(engine, iid, "edit:"))
    assert d.patch(f"/api/v1/incidents/{iid}", json={"category": "flood"}).status_code == 200
    assert len(_audit(engine, iid, "edit:")) == n


@pytest.mark.parametrize("patch, status", [
    ({"lon": BANGLI[0], "lat": BANGLI[1]}, 422),  # outside the incident's regency
    ({"category": "volcano_on_mars"}, 422),
    ({"lon": 110.37}, 422),
    ({"place": "qqqqzzzzxxxx"}, 422),
    ({"colour": "red"}, 422),
])
def test_bad_edits_answer_4xx_with_the_error_body(panel, patch, status):
    client_as, create = panel
    d, iid = client_as("dispatcher"), create(triage=False)
    r = d.patch(f"/api/v1/incidents/{iid}", json=patch)
    assert r.status_code == status, r.text
    assert r.json()["error"]["message"]
    assert d.get(f"/api/v1/incidents/{iid}").json()["category"] == "fire"


def test_edit_of_a_closed_incident_is_409_and_desk_cannot_edit(panel):
    client_as, create = panel
    d, iid = client_as("dispatcher"), create(triage=False)
    assert client_as("agency").patch(f"/api/v1/incidents/{iid}",
                                     json={"description": "x"}).status_code == 403
    assert d.post(f"/api/v1/incidents/{iid}/status",
                  json={"status": "cancelled", "reason": "panggilan ganda"}).status_code == 200
    r = d.patch(f"/api/v1/incidents/{iid}", json={"description": "terlambat"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "illegal_transition"


def test_triage_override_needs_a_reason(panel, engine):
    client_as, create = panel
    d, iid = client_as("dispatcher"), create()
    r = d.post(f"/api/v1/incidents/{iid}/triage", json={"priority": 3})
    assert r.status_code == 422 and "reason" in r.json()["error"]["message"]
    assert d.get(f"/api/v1/incidents/{iid}").json()["priority"] == 1
    r = d.post(f"/api/v1/incidents/{iid}/triage", json={
        "priority": 3, "reason": "api sudah padam", "agencies": [{"agency": "DAMKAR"}]})
    assert r.status_code == 200, r.text
    assert (r.json()["priority"], r.json()["triage_overridden"]) == (3, True)
    assert [a["agency"] for a in r.json()["agencies"]] == ["DAMKAR"]
    [entry] = _audit(engine, iid, "triage_override")
    assert entry.after["override_reason"] == "api sudah padam"
    triage = [i for i in _timeline(d, iid) if i["kind"] == "triage"]
    assert "api sudah padam" in triage[-1]["text"] and "prioritas 3" in triage[-1]["text"]


def test_a_corrected_category_is_triaged_again_until_units_are_sent(panel, engine):
    from dispatch.triage import triage

    client_as, create = panel
    d, iid = client_as("dispatcher"), create("fire")
    fire = d.get(f"/api/v1/incidents/{iid}").json()
    expected = triage(load_config(), KODE, "flood", None)
    assert {a["agency"] for a in fire["agencies"]} != {a.agency for a in expected.agencies}
    r = d.patch(f"/api/v1/incidents/{iid}", json={"category": "flood"})
    assert r.status_code == 200, r.text
    flood = d.get(f"/api/v1/incidents/{iid}").json()
    assert (flood["status"], flood["priority"], flood["triage_overridden"]) == (
        "triaged", expected.priority, False)
    assert sorted((a["agency"], a["role"]) for a in flood["agencies"]) == sorted(
        (a.agency, a.role) for a in expected.agencies)
    [rerun] = [e for e in _audit(engine, iid, "triage") if e.after.get("rerun_reason")]
    assert "fire → flood" in rerun.after["rerun_reason"] and rerun.actor == "test_dispatcher"
    texts = [i for i in _timeline(d, iid) if i["kind"] == "triage"]
    assert "kategori diubah fire → flood" in texts[-1]["text"]
    assert "category changed fire → flood" in texts[-1]["text_en"]
    # after a dispatcher's override the triage is the dispatcher's: a new category keeps it
    assert d.post(f"/api/v1/incidents/{iid}/triage", json={
        "priority": 3, "reason": "genangan kecil", "agencies": [{"agency": "BPBD"}]}
    ).status_code == 200
    n = len(_audit(engine, iid, "triage"))
    assert d.patch(f"/api/v1/incidents/{iid}", json={"category": "fire"}).status_code == 200
    kept = d.get(f"/api/v1/incidents/{iid}").json()
    assert (kept["category"], kept["priority"], [a["agency"] for a in kept["agencies"]]) == (
        "fire", 3, ["BPBD"])
    assert len(_audit(engine, iid, "triage")) == n
    # not yet triaged: the category changes, triage waits for the dispatcher
    fresh = create("fire", triage=False)
    assert d.patch(f"/api/v1/incidents/{fresh}", json={"category": "flood"}).status_code == 200
    assert d.get(f"/api/v1/incidents/{fresh}").json()["status"] == "new"


def test_close_and_cancel_need_a_reason(panel, engine):
    client_as, create = panel
    d = client_as("dispatcher")
    iid = create()
    r = d.post(f"/api/v1/incidents/{iid}/status", json={"status": "cancelled"})
    assert r.status_code == 422 and r.json()["error"]["message"]
    r = d.post(f"/api/v1/incidents/{iid}/status", json={"status": "cancelled", "reason": "  "})
    assert r.status_code == 422
    assert d.get(f"/api/v1/incidents/{iid}").json()["status"] == "triaged"
    r = d.post(f"/api/v1/incidents/{iid}/status",
               json={"status": "cancelled", "reason": "laporan palsu"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    [entry] = _audit(engine, iid, "status:cancelled")
    assert entry.after["reason"] == "laporan palsu"
    status = [i for i in _timeline(d, iid) if i["kind"] == "status"]
    assert status[-1]["text"] == "Status: cancelled — laporan palsu"
    # resolve needs none; close does
    other = create()
    assert d.post(f"/api/v1/incidents/{other}/status", json={"status": "resolved"}).json()[
        "status"] == "resolved"
    assert d.post(f"/api/v1/incidents/{other}/status",
                  json={"status": "closed"}).status_code == 422
    r = d.post(f"/api/v1/incidents/{other}/status",
               json={"status": "closed", "reason": "sudah ditangani warga"})
    assert r.status_code == 200 and r.json()["status"] == "closed"


def test_notes_have_author_and_time_and_join_the_timeline(panel, engine):
    client_as, create = panel
    iid = create()
    d, desk = client_as("dispatcher"), client_as("agency")  # the desk's DAMKAR takes part
    r = d.post(f"/api/v1/incidents/{iid}/notes", json={"text": "  Penelepon menelpon lagi  "})
    assert r.status_code == 201, r.text
    note = r.json()
    assert (note["author"], note["text"], note["incident_id"]) == (
        "test_dispatcher", "Penelepon menelpon lagi", iid)
    datetime.fromisoformat(note["created_at"].replace("Z", "+00:00"))
    assert desk.post(f"/api/v1/incidents/{iid}/notes",
                     json={"text": "Unit berangkat"}).status_code == 201
    for bad in ({"text": ""}, {"text": "   "}, {}, {"text": "x" * 4001}):
        r = d.post(f"/api/v1/incidents/{iid}/notes", json=bad)
        assert r.status_code == 422 and "error" in r.json(), bad
    notes = [(i["actor"], i["text"]) for i in _timeline(d, iid) if i["kind"] == "note"]
    assert notes == [("test_dispatcher", "Catatan: Penelepon menelpon lagi"),
                     ("test_agency", "Catatan: Unit berangkat")]
    assert client_as("viewer").post(f"/api/v1/incidents/{iid}/notes",
                                    json={"text": "x"}).status_code == 403


def test_sop_checklist_ticks_and_the_whole_timeline(panel):
    client_as, create = panel
    d = client_as("dispatcher")
    iid = create("traffic_accident")
    sop = d.get(f"/api/v1/incidents/{iid}/sop").json()
    assert [(s["agency"], s["step_no"]) for s in sop["items"]] == [
        ("PSC119", 1), ("PSC119", 2), ("PSC119", 3), ("DISHUB", 1), ("DISHUB", 2),
        ("POLRI110", 1)]
    assert (sop["done"], sop["total"]) == (0, 6) and all(s["may_tick"] for s in sop["items"])
    r = d.post(f"/api/v1/incidents/{iid}/sop/PSC119/2", json={})
    assert r.status_code == 200, r.text
    step = next(s for s in r.json()["items"] if (s["agency"], s["step_no"]) == ("PSC119", 2))
    assert step["done"] and step["checked_by"] == "test_dispatcher" and r.json()["done"] == 1
    assert d.post(f"/api/v1/incidents/{iid}/sop/PSC119/2", json={}).status_code == 409
    assert d.post(f"/api/v1/incidents/{iid}/sop/PSC119/9", json={}).status_code == 422
    assert d.post(f"/api/v1/incidents/{iid}/sop/DAMKAR/1", json={}).status_code == 422
    assert d.post(f"/api/v1/incidents/{iid}/agencies/DISHUB/acknowledge",
                  json={}).status_code == 200
    assert d.post(f"/api/v1/incidents/{iid}/agencies/POLRI110/handoff",
                  json={"reference": "LP/112/XI/2026"}).status_code == 200
    d.post(f"/api/v1/incidents/{iid}/notes", json={"text": "korban dua orang"})
    items = _timeline(d, iid)
    assert [i["at"] for i in items] == sorted(i["at"] for i in items)
    kinds = [i["kind"] for i in items]
    assert kinds[0] == "call" and {"triage", "sop", "agency", "handoff", "note"} <= set(kinds)
    by_kind = {i["kind"]: i for i in items}
    assert "LP/112/XI/2026" in by_kind["handoff"]["text"] and "POLRI110" in by_kind[
        "handoff"]["text_en"]
    assert "PSC119 langkah 2" in by_kind["sop"]["text"] and by_kind["sop"]["text_en"].startswith(
        "SOP PSC119 step 2 done: Send the nearest ambulance")
    assert all(i["actor"] and i["text"] and i["text_en"] for i in items)


def test_agency_desk_ticks_only_its_own_steps(panel):
    client_as, create = panel
    iid = create("fire")  # DAMKAR dispatches, PSC119 stands by
    desk = client_as("agency")  # DAMKAR's desk
    sop = desk.get(f"/api/v1/incidents/{iid}/sop").json()
    may = {(s["agency"], s["step_no"]): s["may_tick"] for s in sop["items"]}
    assert may[("DAMKAR", 1)] and not may[("PSC119", 1)]
    assert desk.post(f"/api/v1/incidents/{iid}/sop/DAMKAR/1", json={}).status_code == 200
    assert desk.post(f"/api/v1/incidents/{iid}/sop/PSC119/1", json={}).status_code == 403
    assert client_as("viewer").get(f"/api/v1/incidents/{iid}/sop").status_code == 403


def test_a_tick_made_by_mistake_is_undone_and_both_stay_on_record(panel, engine):
    client_as, create = panel
    iid = create("fire")  # DAMKAR dispatches, PSC119 stands by
    d, desk = client_as("dispatcher"), client_as("agency")  # the desk is DAMKAR's
    step = f"/api/v1/incidents/{iid}/sop/DAMKAR/1"
    assert d.delete(step).status_code == 409  # not ticked: nothing to undo
    ticked = desk.post(step, json={}).json()["items"]
    assert [(s["done"], s["may_tick"]) for s in ticked
            if (s["agency"], s["step_no"]) == ("DAMKAR", 1)] == [(True, True)]  # may undo it
    assert desk.delete(f"/api/v1/incidents/{iid}/sop/PSC119/1").status_code == 403
    assert d.delete(f"/api/v1/incidents/{iid}/sop/DAMKAR/9").status_code == 422
    r = d.delete(step)
    assert r.status_code == 200, r.text
    item = next(s for s in r.json()["items"] if (s["agency"], s["step_no"]) == ("DAMKAR", 1))
    assert not item["done"] and item["may_tick"] and r.json()["done"] == 0
    assert d.delete(step).status_code == 409
    assert desk.post(step, json={}).status_code == 200  # ticked again, by the desk
    entries = _audit(engine, iid, "sop_")
    assert [e.action for e in entries] == ["sop_check", "sop_uncheck", "sop_check"]
    undo = entries[1]
    assert undo.actor == "test_dispatcher" and undo.before["checked_by"] == entries[0].actor
    assert undo.before["checked_at"].endswith("Z")
    sops = [e for e in _timeline(d, iid) if e["kind"] == "sop"]
    assert len(sops) == 3 and "dibatalkan" in sops[1]["text"] and "undone" in sops[1]["text_en"]


def test_admin_stores_the_regency_sop_validated_whole(panel, engine):
    client_as, create = panel
    admin, d = client_as("admin"), client_as("dispatcher")
    default = admin.get(f"/api/v1/sop/{KODE}").json()
    assert default["kode_kab"] == KODE
    assert {(s["category"], s["agency"]) for s in default["sops"]} >= {
        ("fire", "DAMKAR"), ("flood", "BPBD"), ("landslide", "PUPR"),
        ("traffic_accident", "PSC119"), ("medical", "PSC119")}
    assert d.get(f"/api/v1/sop/{KODE}").status_code == 403
    assert d.put(f"/api/v1/sop/{KODE}", json=default).status_code == 403
    mine = {"sops": [{"category": "landslide", "agency": "PUPR", "steps": [
        {"id": "Kirim ekskavator dari UPT Jetis", "en": "Send the Jetis excavator"},
        "Koordinasi dengan BPBD"]}]}
    bad = {"sops": mine["sops"] + [{"category": "fire", "agency": "NASA", "steps": ["x"]},
                                   {"category": "volcano", "agency": "BPBD", "steps": ["x"]}]}
    r = admin.put(f"/api/v1/sop/{KODE}", json=bad)
    assert r.status_code == 422
    assert "NASA" in r.json()["error"]["message"] and "volcano" in r.json()["error"]["message"]
    assert admin.get(f"/api/v1/sop/{KODE}").json() == default  # nothing stored
    r = admin.put(f"/api/v1/sop/{KODE}", json=mine)
    assert r.status_code == 200, r.text
    assert r.json()["sops"] == [{"category": "landslide", "agency": "PUPR", "steps": [
        {"id": "Kirim ekskavator dari UPT Jetis", "en": "Send the Jetis excavator"},
        "Koordinasi dengan BPBD"]}]
    text = admin.get(f"/api/v1/sop/{KODE}", params={"format": "yaml"})
    assert text.headers["content-type"].startswith("application/yaml")
    assert yaml.safe_load(text.text) == r.json()
    iid = create("landslide")
    sop = d.get(f"/api/v1/incidents/{iid}/sop").json()
    assert [(s["agency"], s["step_no"], s["text"]) for s in sop["items"]] == [
        ("PUPR", 1, "Kirim ekskavator dari UPT Jetis"), ("PUPR", 2, "Koordinasi dengan BPBD")]
    with Session(engine) as s:
        entry = s.scalars(select(AuditLog).where(AuditLog.action == "sop_import",
                                                 AuditLog.kode_kab == KODE)
                          .order_by(AuditLog.id.desc())).first()
    assert entry.after == {"steps": 2, "sops": 1} and entry.actor == "test_admin"


def test_printed_sheet_holds_what_an_agency_needs(panel):
    client_as, create = panel
    d = client_as("dispatcher")
    iid = create("traffic_accident", caller_phone="081234567890")
    d.patch(f"/api/v1/incidents/{iid}", json={"description": "Truk terguling di Jl. Malioboro"})
    d.post(f"/api/v1/incidents/{iid}/notes", json={"text": "Sopir terjepit"})
    d.post(f"/api/v1/incidents/{iid}/sop/PSC119/1", json={})
    d.post(f"/api/v1/incidents/{iid}/agencies/POLRI110/handoff", json={"reference": "LP/77"})
    r = d.get(f"/console/incidents/{iid}/sheet")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    for text in ("Lembar kejadian", "Kecelakaan lalu lintas", "Truk terguling di Jl. Malioboro",
                 "Sopir terjepit", "LP/77", "Tanyakan jumlah korban", "@media print",
                 "WIB", "POLRI110", "Diserahkan ke POLRI110"):
        assert text in html, text
    en = d.get(f"/console/incidents/{iid}/sheet", params={"lang": "en"}).text
    for text in ("Incident sheet", "Traffic accident", "Handed off to POLRI110, reference LP/77",
                 "Ask the number of casualties"):
        assert text in en, text
    assert d.get(f"/console/incidents/{iid}/sheet", params={"lang": "fr"}).status_code == 422
    assert d.get("/console/incidents/99999999/sheet").status_code == 404
    assert client_as("viewer").get(f"/console/incidents/{iid}/sheet").status_code == 403
