"""The setup checklist from what the catalog, alembic_version, region and the roads folder hold."""

from api.readiness import NO_REGIONS, NOT_MIGRATED, OUTDATED, migration_heads, notices_from


def test_notices_in_order_of_what_to_do_first():
    head = sorted(migration_heads())
    assert notices_from([True, False, True]) == [NOT_MIGRATED]
    assert notices_from([True, True, True], head, [], set()) == [NO_REGIONS]
    assert notices_from([True, True, True], ["0001"], ["34.71"], {"34.71"}) == [OUTDATED]
    [roads] = notices_from([True, True, True], head, ["34.71", "51.06", "52.99"], {"34.71"})
    assert roads.code == "no_road_network" and not roads.blocking
    assert "51.06, 52.99" in roads.message and "51.06, 52.99" in roads.message_en
    assert notices_from([True, True, True], head, ["34.71"], {"34.71"}) == []
    assert NOT_MIGRATED.blocking and NOT_MIGRATED.text() == (
        "Basis data belum dimigrasi: jalankan `siaga db upgrade` / "
        "Database not migrated: run `siaga db upgrade`")
