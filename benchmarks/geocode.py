"""Reverse geocoding: Siaga's in-process batch geocoder vs the PostGIS reference, one run.

    .venv/bin/python benchmarks/geocode.py [--points 100000] [--seed 7] [--database-url URL]

Generates random points around the three pilot regions (uniform over each region's bounding box
widened by ~3 km, giving inside / near / outside points; points within ~800 m of the regency
boundaries; points far from any region), geocodes all of them with ``Geocoder.reverse_many`` and
with one PostGIS statement (``geo.service.reverse_postgis_many``), prints both rates, the ratio
and the agreement (same match, same desa, distances within 0.5 m), and exits 1 on any
disagreement. Pilot regions missing from the database are imported first (committed).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
PILOTS = {"34.71": "kota-yogyakarta", "51.06": "bangli", "64.71": "balikpapan"}
DIST_TOL_M = 0.5


def make_points(geocoder, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points: 60 % uniform around the regions, 30 % near boundaries, 10 % far away."""
    rng = np.random.default_rng(seed)
    regions = geocoder._reverse.regions
    n_box, n_edge = int(n * 0.6), int(n * 0.3)
    n_far = n - n_box - n_edge
    lons, lats = [], []
    for k, region in enumerate(regions):
        m = n_box // len(regions) + (1 if k < n_box % len(regions) else 0)
        x0, y0, x1, y1 = region.bounds
        lons.append(rng.uniform(x0 - 0.03, x1 + 0.03, m))
        lats.append(rng.uniform(y0 - 0.03, y1 + 0.03, m))
    boundary = shapely.get_coordinates(
        shapely.boundary(shapely.union_all(geocoder.geometries))
    )
    pick = boundary[rng.integers(0, len(boundary), n_edge)]
    lons.append(pick[:, 0] + rng.uniform(-0.008, 0.008, n_edge))
    lats.append(pick[:, 1] + rng.uniform(-0.008, 0.008, n_edge))
    lons.append(rng.uniform(95.0, 141.0, n_far))
    lats.append(rng.uniform(-11.0, 6.0, n_far))
    lon, lat = np.concatenate(lons), np.concatenate(lats)
    order = rng.permutation(n)
    return lon[order], lat[order]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--tolerance-m", type=float, default=500.0)
    parser.add_argument("--repeat", type=int, default=5, help="in-process runs (best is kept)")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from api.db import make_engine, make_sessionmaker, unit_of_work
    from api.settings import load_settings
    from geo.geocode import MATCH_NAMES
    from geo.service import import_region, list_regions, load_geocoder, reverse_postgis_many

    url = args.database_url or load_settings().database_url
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as session:
        loaded = {r.kode_kab for r in list_regions(session)}
        for kode_kab, name in PILOTS.items():
            if kode_kab in loaded:
                continue
            folder = ROOT / "data" / name
            print(f"importing pilot region {name} ...")
            import_region(session, folder / "desa.geojson",
                          kecamatan_path=folder / "kecamatan.geojson",
                          kabupaten_path=folder / "kabupaten.geojson")
    with unit_of_work(factory) as session:
        t0 = time.perf_counter()
        geocoder = load_geocoder(session)
        load_s = time.perf_counter() - t0

    lon, lat = make_points(geocoder, args.points, args.seed)
    n = lon.shape[0]
    geocoder.reverse_many(lon[:1000], lat[:1000], tolerance_m=args.tolerance_m)  # warm-up
    best = float("inf")
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        batch = geocoder.reverse_many(lon, lat, tolerance_m=args.tolerance_m)
        best = min(best, time.perf_counter() - t0)

    with unit_of_work(factory) as session:
        t0 = time.perf_counter()
        pg_kode, pg_match, pg_dist = reverse_postgis_many(session, lon, lat, args.tolerance_m)
        pg_s = time.perf_counter() - t0
    engine.dispose()

    codes = np.array([a.kode_desa for a in geocoder.areas] + [None], dtype=object)
    ours_kode = codes[batch.area_index]  # -1 -> None
    same_match = batch.match == pg_match
    same_kode = np.array([a == b for a, b in zip(ours_kode, pg_kode, strict=True)])
    both_nan = np.isnan(batch.distance_m) & np.isnan(pg_dist)
    close = both_nan | (np.abs(batch.distance_m - pg_dist) <= DIST_TOL_M)
    agree = same_match & same_kode & close
    counts = {name: int((batch.match == code).sum()) for code, name in enumerate(MATCH_NAMES)}
    ours_rate, pg_rate = n / best, n / pg_s
    max_err = np.nanmax(np.abs(batch.distance_m - pg_dist)[batch.match == 1], initial=0.0)

    print(f"points: {n:,}  ({', '.join(f'{k} {v:,}' for k, v in counts.items() if v)})")
    grid_mb = sum(r.grid.nbytes() for r in geocoder._reverse.regions) / 1e6
    print(f"polygons: {len(geocoder):,} desa in {len(geocoder.region_codes())} regions; "
          f"geocoder load from PostGIS {load_s * 1000:.0f} ms "
          f"(lookup grids built in process: {grid_mb:.0f} MB)")
    print()
    print(f"{'engine':<34}{'time (s)':>10}{'points/s':>14}")
    print(f"{'Siaga in-process (reverse_many)':<34}{best:>10.3f}{ours_rate:>14,.0f}")
    print(f"{'PostGIS (one unnest statement)':<34}{pg_s:>10.3f}{pg_rate:>14,.0f}")
    print()
    print(f"ratio: {ours_rate / pg_rate:,.1f}x")
    print(f"agreement: {agree.mean() * 100:.3f} % ({int((~agree).sum())} differ); "
          f"max |distance difference| on nearest: {max_err * 1000:.2f} mm")
    if not agree.all():
        for i in np.flatnonzero(~agree)[:10]:
            print(f"  differ at lon={lon[i]!r} lat={lat[i]!r}: ours "
                  f"{MATCH_NAMES[batch.match[i]]} {ours_kode[i]} {batch.distance_m[i]:.3f} m, "
                  f"postgis {MATCH_NAMES[pg_match[i]]} {pg_kode[i]} {pg_dist[i]:.3f} m")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
