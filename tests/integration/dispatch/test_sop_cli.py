"""``siaga sop export|import`` against the test database (they commit: a test-only region 99.08
is seeded from an extra configuration file; its SOP rows and agencies are removed afterwards)."""

import json

import pytest
import yaml
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from dispatch.models import Agency, SlaRule
from dispatch.panel_models import SopStepRow
from tests.fixtures.dispatch import seeded_region_cli

KODE = "99.08"
EXTRA = {"regions": {KODE: {
    "name": "Wilayah uji SOP",
    "agencies": [{"code": "BPBD", "name": "BPBD uji"}, {"code": "PUPR", "name": "PUPR uji"},
                 {"code": "DAMKAR", "name": "Damkar uji"}],
    "sla": {"default": {"ack_min": 10, "on_scene_min": 120}}}}}


def _cleanup(engine) -> None:
    with Session(engine) as s:
        for model in (SopStepRow, SlaRule, Agency):
            s.execute(delete(model).where(model.kode_kab == KODE))
        s.commit()


def _stored(engine) -> int:
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(SopStepRow)
                        .where(SopStepRow.kode_kab == KODE))


@pytest.fixture
def cli(database_url, engine, monkeypatch, tmp_path):
    with seeded_region_cli(database_url, monkeypatch, tmp_path, kode=KODE, extra=EXTRA,
                           cleanup=lambda: _cleanup(engine)) as run:
        yield run


def test_export_edit_import_round_trip(cli, engine, tmp_path):
    r = cli("sop", "export", "--region", KODE)  # nothing stored yet: the shipped default set
    assert r.exit_code == 0, r.output
    doc = yaml.safe_load(r.output)
    assert doc["kode_kab"] == KODE and _stored(engine) == 0
    pupr = next(s for s in doc["sops"] if (s["category"], s["agency"]) == ("landslide", "PUPR"))
    assert "alat berat" in pupr["steps"][0]["id"]
    # keep the agencies the region has, add a step of its own
    doc["sops"] = [s for s in doc["sops"] if s["agency"] in ("BPBD", "PUPR", "DAMKAR")]
    pupr["steps"].append("Laporkan kebutuhan BBM alat berat ke posko")
    path = tmp_path / "sop.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    r = cli("sop", "import", str(path), "--region", KODE, "--actor", "admin-uji")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["kode_kab"] == KODE and out["steps"] == _stored(engine) > 0
    again = yaml.safe_load(cli("sop", "export", "--region", KODE).output)
    assert again == doc


def test_invalid_file_stores_nothing(cli, engine, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"sops": [
        {"category": "fire", "agency": "DAMKAR", "steps": ["Berangkat"]},
        {"category": "fire", "agency": "PSC119", "steps": ["tidak ada OPD ini di 99.08"]}]}),
        encoding="utf-8")
    r = cli("sop", "import", str(path), "--region", KODE)
    assert r.exit_code != 0 and "PSC119" in r.output
    assert _stored(engine) == 0
    # the shipped default names agencies 99.08 does not have: refused whole as well
    r = cli("sop", "import", "--region", KODE)
    assert r.exit_code != 0 and _stored(engine) == 0
    path.write_text("sops: [unclosed", encoding="utf-8")
    assert cli("sop", "import", str(path), "--region", KODE).exit_code != 0
