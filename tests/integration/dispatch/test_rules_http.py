"""The Perbup SLA rules over HTTP against the real database: read the version in force,
versions, YAML export, admin-only PUT validated whole (422 with every problem, nothing stored),
another regency's rules are 404. Uses a test-only region (99.06), rules removed afterwards
(audit rows stay: the log is append-only)."""

from collections.abc import Iterator

import pytest
import yaml
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from dispatch.config import DEFAULT_PATH, parse_config
from dispatch.models import Agency, SlaRule
from dispatch.rule_models import SlaRuleSetRow
from dispatch.scoping import EVERYTHING
from dispatch.seed_service import seed_region

KODE = "99.06"
REGION = {"name": "Wilayah uji aturan", "agencies": [
    {"code": "DAMKAR", "name": "Damkar uji"}, {"code": "BPBD", "name": "BPBD uji"},
    {"code": "PSC119", "name": "PSC 119 uji"}],
    "sla": {"default": {"ack_min": 5, "on_scene_min": 30},
            "rules": [{"agency": "DAMKAR", "categories": ["fire"], "ack_min": 2,
                       "on_scene_min": 15, "start": "received"}]}}
NEW = {"effective_from": "2026-07-01T00:00:00+08:00", "reference": "Perbup uji No. 1/2026",
       "default": {"start": "received", "limit_min": 120, "ack_min": 10},
       "rules": [{"agency": "DAMKAR", "categories": ["fire"], "start": "received",
                  "limit_min": 15, "judge": "p90"},
                 {"kind": "public_service", "start": "notified", "limit_min": 2880}]}


def _cleanup(engine) -> None:
    with Session(engine) as s:
        s.execute(delete(SlaRuleSetRow).where(SlaRuleSetRow.kode_kab == KODE))
        for model in (SlaRule, Agency):
            s.execute(delete(model).where(model.kode_kab == KODE))
        s.commit()


def _versions(engine) -> int:
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(SlaRuleSetRow)
                        .where(SlaRuleSetRow.kode_kab == KODE))


@pytest.fixture
def rules_api(engine, client_as) -> Iterator:
    doc = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    config = parse_config([doc, {"regions": {KODE: REGION}}])
    _cleanup(engine)
    with Session(engine) as s:
        seed_region(s, config, KODE)
        s.commit()

    # the app's own configuration knows every category; the agencies come from the database
    yield client_as
    _cleanup(engine)


def test_seeded_version_is_readable_by_every_role(rules_api):
    for role in ("viewer", "dispatcher", "planner", "admin"):
        r = rules_api(role).get(f"/api/v1/rules/{KODE}")
        assert r.status_code == 200, (role, r.text)
    body = r.json()
    assert body["version"] == 1 and body["default"]["limit_min"] == 30
    fire = next(x for x in body["rules"] if x.get("agency") == "DAMKAR")
    assert (fire["start"], fire["limit_min"]) == ("received", 15)


def test_admin_stores_a_new_version_judged_from_its_date(rules_api, engine):
    admin = rules_api("admin")
    r = admin.put(f"/api/v1/rules/{KODE}", json=NEW)
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2
    assert r.json()["effective_from"] == "2026-06-30T16:00:00Z"
    before = admin.get(f"/api/v1/rules/{KODE}", params={"at": "2026-06-30T15:59:59Z"})
    assert before.json()["version"] == 1
    after = admin.get(f"/api/v1/rules/{KODE}", params={"at": "2026-06-30T16:00:00Z"})
    assert after.json()["version"] == 2 and after.json()["default"]["limit_min"] == 120
    versions = admin.get(f"/api/v1/rules/{KODE}/versions").json()["versions"]
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[0]["reference"] == "Perbup uji No. 1/2026"
    assert versions[0]["created_by"] == "test_admin"
    assert _versions(engine) == 2


def test_export_yaml_reads_back_as_the_same_rules(rules_api):
    admin = rules_api("admin")
    admin.put(f"/api/v1/rules/{KODE}", json=NEW)
    r = admin.get(f"/api/v1/rules/{KODE}/export.yaml", params={"at": "2026-08-01T00:00:00Z"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/yaml")
    doc = yaml.safe_load(r.text)
    assert doc["kode_kab"] == KODE and doc["rules"][0]["judge"] == "p90"
    doc.pop("kode_kab")
    doc.pop("version")
    again = admin.put(f"/api/v1/rules/{KODE}", json=doc)
    assert again.status_code == 200
    assert {k: again.json()[k] for k in ("default", "rules", "effective_from")} == {
        k: admin.get(f"/api/v1/rules/{KODE}", params={"at": "2026-08-01T00:00:00Z"}).json()[k]
        for k in ("default", "rules", "effective_from")}


def test_invalid_rules_are_422_with_every_problem_and_nothing_stored(rules_api, engine):
    admin = rules_api("admin")
    bad = dict(NEW, rules=[{"agency": "NASA", "limit_min": 5},
                           {"categories": ["volcano"], "limit_min": 5}])
    r = admin.put(f"/api/v1/rules/{KODE}", json=bad)
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "invalid_sla_rules"
    assert "NASA" in err["message"] and "volcano" in err["message"]
    assert "tidak ada yang disimpan" in err["message"] and "nothing was stored" in err["message"]
    naive = admin.put(f"/api/v1/rules/{KODE}", json=dict(NEW, effective_from="2026-07-01T00:00"))
    assert naive.status_code == 422
    extra = admin.put(f"/api/v1/rules/{KODE}", json=dict(NEW, colour="red"))
    assert extra.status_code == 422 and extra.json()["error"]["code"] == "invalid_request"
    assert _versions(engine) == 1


def test_only_admins_store_rules(rules_api, engine):
    for role in ("dispatcher", "planner", "viewer", "agency"):
        assert rules_api(role).put(f"/api/v1/rules/{KODE}", json=NEW).status_code == 403
    assert _versions(engine) == 1


def test_unknown_or_other_regency_is_404(rules_api, engine, pilot_regions):
    from api.auth import service

    admin = rules_api("admin")
    assert admin.get("/api/v1/rules/99.98").status_code == 404
    assert admin.get("/api/v1/rules/99.98/versions").status_code == 404
    with Session(engine) as s:
        try:
            service.get_user(session=s, username="rules_yogya_admin", scope=EVERYTHING)
        except Exception:  # noqa: BLE001 - created once per database
            service.create_user(session=s, username="rules_yogya_admin",
                                password="rahasia-uji-123", role="admin", kode_kabs=["34.71"],
                                scope=EVERYTHING)
        token = service.issue_api_token(session=s, username="rules_yogya_admin",
                                        name="pytest", scope=EVERYTHING).token
        s.commit()
    other = rules_api("admin")
    other.headers["Authorization"] = f"Bearer {token}"
    assert other.get(f"/api/v1/rules/{KODE}").status_code == 404
    assert other.put(f"/api/v1/rules/{KODE}", json=NEW).status_code == 404
    assert _versions(engine) == 1


def test_console_page_for_admins(rules_api):
    r = rules_api("admin").get("/console/rules", params={"kode_kab": KODE, "lang": "en"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "SLA rules (Perbup)" in r.text and "report received" in r.text
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert rules_api("dispatcher").get("/console/rules",
                                       params={"kode_kab": KODE}).status_code == 403
    assert rules_api("admin").get("/static/rules.js").status_code == 200
