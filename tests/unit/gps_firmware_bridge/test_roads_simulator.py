"""Road loading, heapq Dijkstra and the simulator's commands."""

import json
from datetime import timedelta

import pytest

from gps_firmware_bridge.exceptions import ConfigError, RoadNetworkError
from gps_firmware_bridge.fix import fix_payload
from gps_firmware_bridge.roads import Point, haversine_m, load_roads
from gps_firmware_bridge.simulator import Simulator, load_fleet

from ._vectors import REPO, validator, when

# A 3x3 grid (about 110 m spacing) as the routing export CSV; the middle row is slow.
GRID = [(c, r) for r in range(3) for c in range(3)]


@pytest.fixture
def grid_csv(tmp_path):
    lines = ["u,v,u_lon,u_lat,v_lon,v_lat,length_m,travel_s"]

    def pt(n):
        c, r = GRID[n]
        return 110.36 + c * 0.001, -7.80 + r * 0.001

    for a in range(9):
        for b in range(9):
            (ca, ra), (cb, rb) = GRID[a], GRID[b]
            if abs(ca - cb) + abs(ra - rb) == 1:
                length = haversine_m(Point(*pt(a)), Point(*pt(b)))
                speed = 2.0 if ra == rb == 1 else 10.0
                lines.append(
                    f"{a},{b},{pt(a)[0]},{pt(a)[1]},{pt(b)[0]},{pt(b)[1]},"
                    f"{length:.2f},{length / speed:.2f}"
                )
    path = tmp_path / "roads.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_dijkstra_avoids_the_slow_row(grid_csv):
    g = load_roads(grid_csv)
    src = g.nearest(Point(110.36, -7.799))  # node 3 (row 1, col 0)
    dst = g.nearest(Point(110.362, -7.799))  # node 5 (row 1, col 2)
    path = g.shortest_path(src, dst)
    assert len(path) == 5  # detour via row 0 or 2 is faster than the slow direct row


def test_unknown_file_type(tmp_path):
    with pytest.raises(RoadNetworkError):
        load_roads(tmp_path / "x.txt")


def test_osm_xml_of_the_pilot_city_loads():
    g = load_roads(REPO / "data" / "kota-yogyakarta" / "roads_drive.osm")
    assert len(g.points) > 30_000 and g.edge_count > 60_000


def test_goto_drives_by_road_and_stops(grid_csv):
    sim = Simulator(
        load_roads(grid_csv), [("U1", Point(110.36, -7.80))], report_interval_s=1, noise_m=0.0
    )
    sim.command("siaga/v1/sim/U1/goto", json.dumps({"lat": -7.798, "lon": 110.362}).encode())
    now = when("2026-11-23T01:00:00Z")
    fixes = []
    for i in range(200):
        fixes += sim.step(1.0, now + timedelta(seconds=i + 1))
    unit = sim.units["U1"]
    assert not unit.moving
    assert haversine_m(unit.position, Point(110.362, -7.798)) < 1.0
    assert max(f.speed_mps or 0 for f in fixes) <= 10.0
    assert fixes[-1].speed_mps == 0.0
    schema = validator()
    assert all(not list(schema.iter_errors(fix_payload(f, 0))) for f in fixes)


def test_route_and_home_commands(grid_csv):
    sim = Simulator(load_roads(grid_csv), [("U1", Point(110.36, -7.80))], noise_m=0.0)
    route = {"route": [[110.361, -7.80], [110.361, -7.799]]}
    sim.command("siaga/v1/sim/U1/goto", json.dumps(route).encode())
    now = when("2026-11-23T01:00:00Z")
    for i in range(100):
        sim.step(1.0, now + timedelta(seconds=i))
    assert haversine_m(sim.units["U1"].position, Point(110.361, -7.799)) < 1.0
    sim.command("siaga/v1/sim/U1/home", b"")
    for i in range(100, 300):
        sim.step(1.0, now + timedelta(seconds=i))
    assert haversine_m(sim.units["U1"].position, Point(110.36, -7.80)) < 1.0


def test_dropout_holds_then_flushes_a_backlog(grid_csv):
    sim = Simulator(
        load_roads(grid_csv),
        [("U1", Point(110.36, -7.80))],
        report_interval_s=1,
        dropout_rate=60.0,
        dropout_s=5.0,
        seed=1,
    )
    now = when("2026-11-23T01:00:00Z")
    sizes = [len(sim.step(1.0, now + timedelta(seconds=i))) for i in range(12)]
    assert 0 in sizes and max(sizes) >= 5 and sum(sizes) >= 6


def test_bad_commands_are_refused(grid_csv):
    sim = Simulator(load_roads(grid_csv), [("U1", Point(110.36, -7.80))])
    with pytest.raises(ConfigError):
        sim.command("siaga/v1/sim/NOPE/home", b"")
    with pytest.raises(ConfigError):
        sim.command("siaga/v1/sim/U1/fly", b"{}")


def test_fleet_file(tmp_path):
    path = tmp_path / "fleet.json"
    path.write_text(json.dumps([{"device_id": "D1", "lat": -7.8, "lon": 110.36}]))
    assert load_fleet(path) == [("D1", Point(110.36, -7.8))]
