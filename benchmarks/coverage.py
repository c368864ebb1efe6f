"""Coverage benchmark: the desa coverage table of Kota Yogyakarta from its posts, every profile.

For each vehicle profile: demand points on a 250 m grid inside the 45 kelurahan, the post ×
point ETA matrix and the per-desa table (share within the SLA, 5/10/15/30-minute bands,
nearest post) — the computation behind ``GET /api/v1/analytics/coverage`` — with the posts of
the shipped illustrative fleet (10 posts, every agency's, as a Bupati's overview asks).

* **Siaga**: :func:`geo.routing.matrix.eta_matrix` (one bounded forward search per post) and
  :func:`dispatch.analytics.post_coverage.coverage_table`; timed warm (the routing index loaded,
  the kernels compiled: the state of a running server), best of ``--repeat``.
* **Baseline** (the naive approach): one road table per demand point
  (``RoutingIndex.table_arrays``: a reverse search from each point to the posts), then the same
  table. The two must give the same shares.

Run: ``.venv/bin/python benchmarks/coverage.py`` (``--help`` for options). Needs no database.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dispatch.analytics.post_coverage import BANDS_MIN, coverage_table  # noqa: E402
from geo.regions import read_region  # noqa: E402
from geo.routing.matrix import eta_matrix  # noqa: E402
from geo.routing.store import RoadNetworks, build_networks  # noqa: E402
from geo.sampling import grid_points  # noqa: E402

DATA = ROOT / "data" / "kota-yogyakarta"
ROADS = DATA / "roads_drive.osm"
BENCH_DIR = ROOT / ".siaga" / "bench-roads" / "coverage"
FLEET = ROOT / "dispatch" / "data" / "fleet_34.71.yaml"
TARGET_S = 1.0


def _siaga(index, posts: np.ndarray, points, sla_s: float, horizon_s: float):
    m = eta_matrix(index, posts, points.lonlat, horizon_s=horizon_s)
    return coverage_table(m.eta_s, points.owner, np.full(points.owner.max() + 1, np.nan),
                          sla_s=sla_s)


def _naive(index, posts: np.ndarray, points, sla_s: float, horizon_s: float):
    eta = np.full((len(posts), len(points.lonlat)), np.inf)
    for j, (x, y) in enumerate(points.lonlat):
        try:
            got = index.table_arrays(posts, (float(x), float(y)), horizon_s=horizon_s).eta_s
            eta[:, j] = np.where(np.isnan(got), np.inf, got)  # nan: no path from that post
        except Exception:  # noqa: BLE001 - a point off the network stays unreachable
            continue
    return coverage_table(eta, points.owner, np.full(points.owner.max() + 1, np.nan),
                          sla_s=sla_s)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spacing-m", type=float, default=250.0)
    ap.add_argument("--sla-minutes", type=float, default=15.0)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)

    region = read_region(DATA / "desa.geojson", kecamatan_path=DATA / "kecamatan.geojson",
                         kabupaten_path=DATA / "kabupaten.geojson")
    points = grid_points([d.geom for d in region.desa], args.spacing_m)
    fleet = yaml.safe_load(FLEET.read_text())
    posts = np.array([[s["lon"], s["lat"]] for s in fleet["stations"]], dtype=np.float64)
    build_networks(ROADS, "34.71", BENCH_DIR)
    nets = RoadNetworks(BENCH_DIR)
    profiles = sorted(nets.profiles)
    sla_s = args.sla_minutes * 60.0
    horizon_s = 2.0 * max(args.sla_minutes, float(max(BANDS_MIN))) * 60.0
    print(f"Kota Yogyakarta: {len(region.desa)} kelurahan, {len(points.owner)} demand points "
          f"({args.spacing_m:g} m grid), {len(posts)} posts, profiles {', '.join(profiles)}, "
          f"SLA {args.sla_minutes:g} min; load avg {os.getloadavg()[0]:.1f}")
    indexes = {p: nets.get("34.71", p) for p in profiles}
    for p in profiles:  # warm: indexes loaded, kernels compiled
        _siaga(indexes[p], posts, points, sla_s, horizon_s)
    print("\n| profile | Siaga warm | naive (table per point) | ratio | max share diff |")
    print("|---|---:|---:|---:|---:|")
    total = 0.0
    total_naive = 0.0
    for p in profiles:
        best = np.inf
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            cov = _siaga(indexes[p], posts, points, sla_s, horizon_s)
            best = min(best, time.perf_counter() - t0)
        t0 = time.perf_counter()
        ref = _naive(indexes[p], posts, points, sla_s, horizon_s)
        naive = time.perf_counter() - t0
        diff = float(np.abs(cov.covered_share - ref.covered_share).max())
        total += best
        total_naive += naive
        print(f"| {p} | {best * 1000:.0f} ms | {naive:.2f} s | {naive / best:.0f}× | "
              f"{diff:.4f} |")
    print(f"| **all profiles** | **{total * 1000:.0f} ms** | {total_naive:.2f} s | "
          f"{total_naive / total:.0f}× | |")
    verdict = "met" if total <= TARGET_S else "NOT met"
    print(f"\nTarget 'coverage table for every desa and post, all profiles, <= {TARGET_S:g} s "
          f"warm': {verdict} ({total:.2f} s); load avg {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
