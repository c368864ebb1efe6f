"""``siaga rules export|import|versions`` against the test database (they commit: a test-only
region 99.07 is seeded from an extra configuration file and removed afterwards)."""

import json

import pytest
import yaml
from sqlalchemy import delete
from sqlalchemy.orm import Session

from dispatch.models import Agency, SlaRule
from dispatch.rule_models import SlaRuleSetRow
from tests.fixtures.dispatch import seeded_region_cli

KODE = "99.07"
EXTRA = {"regions": {KODE: {
    "name": "Wilayah uji CLI aturan",
    "agencies": [{"code": "DAMKAR", "name": "Damkar uji"}, {"code": "BPBD", "name": "BPBD uji"}],
    "sla": {"default": {"ack_min": 10, "on_scene_min": 120, "start": "received"},
            "rules": [{"agency": "DAMKAR", "categories": ["fire"], "ack_min": 2,
                       "on_scene_min": 15, "start": "received"}]}}}}


def _cleanup(engine) -> None:
    with Session(engine) as s:
        s.execute(delete(SlaRuleSetRow).where(SlaRuleSetRow.kode_kab == KODE))
        for model in (SlaRule, Agency):
            s.execute(delete(model).where(model.kode_kab == KODE))
        s.commit()


@pytest.fixture
def cli(database_url, engine, monkeypatch, tmp_path):
    with seeded_region_cli(database_url, monkeypatch, tmp_path, kode=KODE, extra=EXTRA,
                           cleanup=lambda: _cleanup(engine)) as run:
        yield run


def test_export_edit_import_round_trip(cli, tmp_path):
    r = cli("rules", "export", "--region", KODE)
    assert r.exit_code == 0, r.output
    doc = yaml.safe_load(r.output)
    assert doc["kode_kab"] == KODE and doc["default"]["start"] == "received"
    assert doc["default"]["limit_min"] == 120
    doc["effective_from"] = "2027-01-01T00:00:00+08:00"
    doc["reference"] = "Perbup uji perubahan"
    doc["rules"][0]["limit_min"] = 20
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    r = cli("rules", "import", str(path), "--actor", "admin-uji")
    assert r.exit_code == 0, r.output
    [stored] = json.loads(r.output)
    assert (stored["kode_kab"], stored["version"]) == (KODE, 2)
    versions = json.loads(cli("rules", "versions", "--region", KODE).output)
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[0]["created_by"] == "admin-uji"
    now = yaml.safe_load(cli("rules", "export", "--region", KODE).output)
    assert now["rules"][0]["limit_min"] == 15  # the new version is not in force yet
    later = yaml.safe_load(cli("rules", "export", "--region", KODE,
                               "--at", "2027-01-01T00:00:00+08:00").output)
    assert later["rules"][0]["limit_min"] == 20


def test_one_bad_document_stores_nothing(cli, tmp_path):
    good = yaml.safe_load(cli("rules", "export", "--region", KODE).output)
    bad = dict(good, rules=[{"agency": "NOPE", "limit_min": 5, "judge": "median"}])
    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump_all([good, bad]), encoding="utf-8")
    r = cli("rules", "import", str(path))
    assert r.exit_code == 1
    assert "dokumen/document 2" in r.output and "NOPE" in r.output and "median" in r.output
    assert "nothing was stored" in r.output
    versions = json.loads(cli("rules", "versions", "--region", KODE).output)
    assert [v["version"] for v in versions] == [1]


def test_clear_errors_for_bad_files_and_regions(cli, tmp_path):
    r = cli("rules", "export", "--region", "99.97")
    assert r.exit_code == 1 and "tidak ditemukan" in r.output and "no SLA rules" in r.output
    broken = tmp_path / "broken.yaml"
    broken.write_text("kode_kab: [unclosed", encoding="utf-8")
    r = cli("rules", "import", str(broken))
    assert r.exit_code == 1 and "cannot read" in r.output
    r = cli("rules", "export", "--region", KODE, "--at", "2026-01-01")
    assert r.exit_code == 1 and "time zone" in r.output
