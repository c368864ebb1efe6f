"""Siting benchmark: ETA matrix and MCLP on the Kota Yogyakarta road network.

* ETA matrix: 1,000 candidate posts (road nodes sampled with a seed) x 10,000 demand points
  (synthetic incident history: 30 clusters around road nodes, 400 m spread), ``ambulance``
  profile, horizon = the coverage standard. Siaga (``geo.routing.matrix.eta_matrix``: one
  bounded forward search per candidate, compiled kernel) against networkx
  (``single_source_dijkstra_path_length`` with the same cutoff from a virtual source joined to
  the same seeds), in the same run; the matrices must agree.
* MCLP, p = 10 new posts, demand covered within T minutes: Siaga (``dispatch.analytics.siting``,
  HiGHS MIP, reductions and a greedy start) against spopt's ``MCLP.from_cost_matrix`` on the
  same matrix (PuLP + HiGHS). Siaga's answer must be proven optimal (gap 0) and the objectives
  equal.

Run: ``.venv/bin/python benchmarks/siting.py`` (``--help`` for options).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import networkx as nx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dispatch.analytics.siting import lscp, mclp  # noqa: E402
from geo.routing import matrix as mx  # noqa: E402
from geo.routing.store import RoadNetworks, build_networks  # noqa: E402

YOGYA = ROOT / "data" / "kota-yogyakarta" / "roads_drive.osm"
BENCH_DIR = ROOT / ".siaga" / "bench-roads" / "simplified"
PROFILE = "ambulance"
TARGET_S = 30.0


def _points(index, n_cand: int, n_dem: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    cand = rng.choice(index.n_nodes, n_cand, replace=False)
    centres = rng.choice(index.n_nodes, 30, replace=False)
    at = rng.choice(centres, n_dem)
    demand = np.column_stack([index.node_lon[at], index.node_lat[at]])
    demand += rng.normal(0.0, 0.0036, (n_dem, 2))  # ~400 m
    return np.column_stack([index.node_lon[cand], index.node_lat[cand]]), demand


def _networkx_matrix(index, sources: np.ndarray, targets: np.ndarray, horizon_s: float):
    """The same matrix with networkx Dijkstra (same seeds and partial-edge arithmetic)."""
    t0 = time.perf_counter()
    g = nx.DiGraph()
    g.add_weighted_edges_from(
        zip(index.edge_u.tolist(), index.edge_v.tolist(), index.edge_travel_s.tolist(),
            strict=True)
    )
    src, tgt = index.snap(sources), index.snap(targets)
    tg = mx._Targets(index, tgt)
    out = np.full((len(sources), len(targets)), np.inf, dtype=np.float32)
    virtual = -1
    for i in np.flatnonzero(src.on_network):
        seeds, secs = mx._source_seeds(index, src, int(i))
        g.add_weighted_edges_from((virtual, int(n), float(s)) for n, s in zip(seeds, secs,
                                                                             strict=True))
        lengths = nx.single_source_dijkstra_path_length(g, virtual, cutoff=horizon_s)
        g.remove_node(virtual)
        dist = np.full(index.n_nodes, np.inf)
        nodes = np.fromiter((k for k in lengths if k >= 0), dtype=np.int64)
        dist[nodes] = [lengths[int(k)] for k in nodes]
        off_s = float(src.offroad_m[i]) / index.offroad_mps
        eta = mx._etas_from(dist, tg, int(src.edge[i]), float(src.frac[i]), off_s)
        row = np.full(len(targets), np.inf, dtype=np.float32)
        row[tg.on] = np.where(eta <= horizon_s, eta, np.inf)
        out[i] = row
    return out, time.perf_counter() - t0


def _spopt(cost: np.ndarray, weights: np.ndarray, minutes: float, p: int):
    from pulp import HiGHS
    from spopt.locate import MCLP

    t0 = time.perf_counter()
    model = MCLP.from_cost_matrix(cost, weights, service_radius=minutes, p_facilities=p)
    model = model.solve(HiGHS(msg=False))
    return float(model.problem.objective.value()), time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--candidates", type=int, default=1000)
    ap.add_argument("--demand", type=int, default=10000)
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("-p", type=int, default=10)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--skip-spopt", action="store_true")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")

    build_networks(YOGYA, "34.71", BENCH_DIR, only=[PROFILE], simplify=True)
    index = RoadNetworks(BENCH_DIR).get("34.71", PROFILE)
    cand, demand = _points(index, args.candidates, args.demand, args.seed)
    horizon_s = args.minutes * 60.0
    mx.eta_matrix(index, cand[:2], demand[:2], horizon_s=horizon_s)  # compile the kernel
    m = mx.eta_matrix(index, cand, demand, horizon_s=horizon_s)
    ref, nx_s = _networkx_matrix(index, cand, demand, horizon_s)
    both = np.isfinite(m.eta_s) & np.isfinite(ref)
    same_reach = np.array_equal(np.isfinite(m.eta_s), np.isfinite(ref))
    max_diff = float(np.abs(m.eta_s[both] - ref[both]).max()) if both.any() else 0.0
    cover = m.covers(args.minutes).T
    weights = np.ones(args.demand)
    load = os.getloadavg()[0]
    print(f"Kota Yogyakarta {PROFILE}: {index.n_nodes:,} nodes; {args.candidates:,} candidates x "
          f"{args.demand:,} demand points; T = {args.minutes:g} min; coverage density "
          f"{cover.mean():.3f}; load {load:.2f}")
    print("| step | Siaga | baseline | ratio | agreement |")
    print("|---|---:|---:|---:|---|")
    print(f"| ETA matrix build | {m.build_s:.2f} s | networkx {nx_s:.1f} s | "
          f"{nx_s / m.build_s:.0f}x | reachability {'identical' if same_reach else 'DIFFERS'}, "
          f"max diff {max_diff:.1e} s |")

    t0 = time.perf_counter()
    res = mclp(cover, args.p, weights=weights, time_limit_s=120.0)
    ours_s = time.perf_counter() - t0
    if args.skip_spopt:
        ref_obj, sp_s = float("nan"), float("nan")
    else:
        cost = np.where(np.isfinite(m.eta_s.T), m.eta_s.T / 60.0, 1e6).astype(np.float64)
        ref_obj, sp_s = _spopt(cost, weights, args.minutes, args.p)
    equal = abs(ref_obj - res.objective) < 1e-6 if not args.skip_spopt else None
    verdict = "not compared" if equal is None else "equal" if equal else "DIFFERS"
    print(f"| MCLP p={args.p} (covered demand) | {ours_s:.1f} s (solver {res.solve_s:.1f} s), "
          f"objective {res.objective:.0f} ({res.covered_share:.1%}), {res.status}, gap "
          f"{res.mip_gap:g} | spopt {sp_s:.1f} s, objective {ref_obj:.0f} | "
          f"{sp_s / ours_s:.1f}x | objective {verdict} |")
    t0 = time.perf_counter()
    cov = lscp(cover, time_limit_s=120.0)
    print(f"| LSCP (all coverable demand) | {time.perf_counter() - t0:.1f} s, "
          f"{len(cov.new_posts)} posts, {len(cov.uncoverable)} uncoverable, {cov.status}, gap "
          f"{cov.mip_gap:g} | — | — | — |")
    met = res.optimal and res.mip_gap == 0.0 and ours_s <= TARGET_S
    print(f"target: optimal MCLP within {TARGET_S:.0f} s: {'met' if met else 'MISSED'}")
    ok = same_reach and max_diff < 1e-2 and res.optimal and (equal is None or equal)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
