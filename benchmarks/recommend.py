"""Unit recommendation: one 1×N road ETA table + pure ranking vs N one-to-one routes, one run.

    .venv/bin/python benchmarks/recommend.py [--units 60] [--incidents 50] [--seed 3]

Builds (or reuses) the Kota Yogyakarta fire-truck routing index from the pilot OSM extract,
places ``--units`` trucks at random positions in the city and ``--incidents`` incidents at random
kelurahan points, and ranks the trucks for each incident two ways:

* Siaga: ``RoutingIndex.table(origins, incident)`` (one reverse Dijkstra) then
  ``dispatch.ranking.rank_units``;
* baseline: one ``RoutingIndex.route(origin, incident)`` per truck (what a dispatcher tool
  calling a routing API per candidate does), then sorting by ETA.

Prints time per recommendation, the ratio, and whether the answers agree (same ETA within
0.5 s for every truck and the same first-ranked truck); exits 1 on disagreement.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dispatch.ranking import Candidate, ProfileSpeed, RoadEstimate, rank_units  # noqa: E402
from geo.routing.exceptions import NoRouteError  # noqa: E402
from geo.routing.store import RoadNetworks, build_networks  # noqa: E402
from geo.types import LonLat  # noqa: E402

BBOX = (110.345, -7.830, 110.400, -7.775)  # Kota Yogyakarta, inner city (lon/lat degrees)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=60)
    parser.add_argument("--incidents", type=int, default=50)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--roads-dir", type=Path, default=ROOT / ".siaga" / "bench-roads")
    args = parser.parse_args()

    build_networks(ROOT / "data" / "kota-yogyakarta" / "roads_drive.osm", "34.71", args.roads_dir)
    index = RoadNetworks(args.roads_dir).get("34.71", "fire_truck")
    rng = np.random.default_rng(args.seed)

    def points(n: int) -> list[LonLat]:
        return [LonLat(float(x), float(y)) for x, y in zip(
            rng.uniform(BBOX[0], BBOX[2], n), rng.uniform(BBOX[1], BBOX[3], n), strict=True)]

    trucks = points(args.units)
    incidents = points(args.incidents)
    cands = [Candidate(k, f"T{k:03d}", "DAMKAR", "available", "fire_truck",
                       frozenset({"pumper"}), p, "gps") for k, p in enumerate(trucks)]
    speeds = {"fire_truck": ProfileSpeed("fire_truck", 35.0, 1.4)}

    siaga_s, base_s, disagree = [], [], 0
    for target in incidents:
        t = time.perf_counter()
        etas = index.table(trucks, target)
        road = {e.origin_index: RoadEstimate(e.reachable, e.eta_s, e.distance_m, e.reason)
                for e in etas}
        ranked = rank_units(cands, target, road=road, speeds=speeds, on_scene_s=900)
        siaga_s.append(time.perf_counter() - t)

        t = time.perf_counter()
        base: dict[int, float | None] = {}
        for k, origin in enumerate(trucks):
            try:
                base[k] = index.route(origin, target).eta_s
            except NoRouteError:
                base[k] = None
        base_order = sorted((k for k in base if base[k] is not None), key=lambda k: base[k])
        base_s.append(time.perf_counter() - t)

        ours = {r.unit_id: r.eta_s for r in ranked}
        same = all((ours[k] is None) == (base[k] is None)
                   and (ours[k] is None or abs(ours[k] - base[k]) <= 0.5) for k in base)
        if not same or (base_order and ranked[0].unit_id != base_order[0]):
            disagree += 1

    med_siaga, med_base = statistics.median(siaga_s), statistics.median(base_s)
    print(f"Recommendation, Kota Yogyakarta fire_truck: {args.units} trucks x "
          f"{args.incidents} incidents")
    print(f"{'method':<42}{'median ms':>12}{'p95 ms':>10}")
    for name, xs in (("Siaga: 1xN table + rank_units", siaga_s),
                     ("baseline: N one-to-one routes + sort", base_s)):
        p95 = sorted(xs)[max(0, int(0.95 * len(xs)) - 1)]
        print(f"{name:<42}{med_siaga * 1e3 if xs is siaga_s else med_base * 1e3:>12.1f}"
              f"{p95 * 1e3:>10.1f}")
    print(f"speed-up (median): {med_base / med_siaga:.1f}x; "
          f"answers agree: {args.incidents - disagree}/{args.incidents}")
    return 1 if disagree else 0


if __name__ == "__main__":
    raise SystemExit(main())
