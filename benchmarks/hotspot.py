"""Hotspot benchmark: Siaga's Gi* (``dispatch.analytics.hotspot.gi_star``) against esda run
directly on the same weights and seed, on a grid of 10,000 cells.

The grid is 100 x 100 cells of 250 m with binary distance-band weights (1.5 cells: the eight
surrounding cells) and synthetic counts: Poisson background plus three clusters. Both sides run
999 conditional permutations with the same seed; the answers must be identical (same z, same
pseudo p-values, same hot/cold classes after the FDR thresholds). The first Gi* in a process
compiles esda's numba kernels; that cold start is reported separately, the timed runs are warm.

Run: ``.venv/bin/python benchmarks/hotspot.py`` (``--help`` for options).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dispatch.analytics.hotspot import gi_star, grid_counts  # noqa: E402

TARGET_S = 1.0


def synthetic_counts(side: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Cells (col, row) of a side x side grid and their counts (background + 3 clusters)."""
    rng = np.random.default_rng(seed)
    col, row = np.meshgrid(np.arange(side), np.arange(side))
    col, row = col.ravel(), row.ravel()
    lam = np.full(side * side, 0.8)
    for cx, cy, r, peak in ((20, 25, 4, 9.0), (70, 60, 6, 6.0), (45, 85, 3, 12.0)):
        d2 = (col - cx) ** 2 + (row - cy) ** 2
        lam += peak * np.exp(-d2 / (2.0 * r * r))
    return np.column_stack([col, row]), rng.poisson(lam).astype(float)


def _esda_direct(y: np.ndarray, w, permutations: int, seed: int):
    import esda
    from esda.getisord import G_Local

    g = G_Local(y, w, transform="B", permutations=permutations, star=True,
                keep_simulations=False, n_jobs=1, seed=seed)
    bins = np.zeros(len(y), dtype=np.int8)
    for level, alpha in ((1, 0.10), (2, 0.05), (3, 0.01)):
        sig = g.p_sim <= esda.fdr(g.p_sim, alpha)
        bins[sig] = level * np.sign(g.Zs[sig])
    return g.Zs, g.p_sim, bins


def _median_s(fn, reps: int) -> tuple[float, float, object]:
    """Median wall-clock and process CPU seconds per call, and the last answer."""
    times, cpu, out = [], [], None
    for _ in range(reps):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(times), statistics.median(cpu), out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--side", type=int, default=100, help="grid side (cells = side^2)")
    ap.add_argument("--permutations", type=int, default=999)
    ap.add_argument("--seed", type=int, default=112)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")

    cells, counts = synthetic_counts(args.side, args.seed)
    grid = grid_counts(cells, counts, 250.0)
    t = time.perf_counter()
    w = grid.weights(1.5)
    weights_s = time.perf_counter() - t
    t = time.perf_counter()
    gi_star(grid.count, w, permutations=args.permutations, seed=args.seed)
    cold_s = time.perf_counter() - t

    ours_s, ours_cpu, ours = _median_s(
        lambda: gi_star(grid.count, w, permutations=args.permutations, seed=args.seed), args.reps
    )
    ref_s, ref_cpu, ref = _median_s(
        lambda: _esda_direct(grid.count, w, args.permutations, args.seed), args.reps
    )
    z_same = np.array_equal(ours.z, ref[0])
    p_same = np.array_equal(ours.p_sim, ref[1])
    bins_same = np.array_equal(ours.gi_bin, ref[2])
    n_hot, n_cold = len(ours.hot), len(ours.cold)
    load = os.getloadavg()[0]

    print(f"cells {len(grid.count):,}  permutations {args.permutations}  seed {args.seed}  "
          f"neighbours/cell {w.mean_neighbors:.2f}  weights build {weights_s:.2f} s  "
          f"cold start (numba compile) {cold_s:.1f} s  load {load:.2f}")
    print(
        "| engine | median s (warm) | CPU s | hot / cold cells | same z | same p | same classes |"
    )
    print("|---|---:|---:|---:|---|---|---|")
    print(f"| Siaga `gi_star` (esda G_Local, FDR classes) | {ours_s:.3f} | {ours_cpu:.3f} "
          f"| {n_hot} / {n_cold} "
          f"| {'yes' if z_same else 'NO'} | {'yes' if p_same else 'NO'} "
          f"| {'yes' if bins_same else 'NO'} |")
    print(f"| esda `G_Local` direct + `esda.fdr` | {ref_s:.3f} | {ref_cpu:.3f} | — | — | — | — |")
    print(f"target <= {TARGET_S:.1f} s: wall {'met' if ours_s <= TARGET_S else 'MISSED'}, "
          f"CPU {'met' if ours_cpu <= TARGET_S else 'MISSED'}; "
          f"ratio Siaga / esda {ours_s / ref_s:.2f}")
    return 0 if (z_same and p_same and bins_same) else 1


if __name__ == "__main__":
    raise SystemExit(main())
