"""The registry admin page renders the rows it is given, escaped, in both languages."""

from maps.registry_page import render_registry_page

POST = {"id": 1, "kode_kab": "51.06", "agency": "DAMKAR", "name": "Pos <script>x</script>",
        "kind": "fire_station", "lon": 115.3531, "lat": -8.2905, "address": "Jl. A"}
UNIT = {"id": 2, "kode_kab": "51.06", "call_sign": "DMK-1", "agency": "DAMKAR",
        "vehicle_type": "pumper", "profile": "fire_truck", "capabilities": ["pumper", "rescue"],
        "home_post": "Pos A", "post_id": 1, "crew_size": 0, "status": "available",
        "device_id": "imei-1", "protocol": "gt06"}
TRACKERS = [{"device_id": "imei-1", "registered": True, "protocol": "gt06", "call_sign": "DMK-1",
             "mqtt_provisioned_at": "2026-11-27T03:00:00Z", "revoked_at": None,
             "last_seen_at": None},
            {"device_id": "baru-9", "registered": False, "revoked_at": None,
             "last_seen_at": "2026-11-27T03:00:00Z"}]


def test_rows_are_listed_escaped_and_split_into_registered_and_unknown():
    html = render_registry_page(posts=[POST], units=[UNIT], trackers=TRACKERS, lang="id",
                                kode_kab="51.06")
    assert "<script>x</script>" not in html and "&lt;script&gt;" in html
    assert "115.35310, -8.29050" in html and "pumper, rescue" in html
    assert "<td>0</td>" in html  # a crew of zero is shown, not blank
    registered, unknown = html.split('id="trackers"')[1].split('id="unknown"')
    assert "imei-1" in registered and "baru-9" in unknown and "baru-9" not in registered
    assert "kode_kab=51.06" in html and "Registri armada" in html


def test_english_and_empty_lists():
    html = render_registry_page(posts=[], units=[], trackers=[], lang="en")
    assert "Fleet registry" in html and html.count("Nothing yet.") == 4
    assert "Registri armada" in render_registry_page(posts=[], units=[], trackers=[], lang="xx")
