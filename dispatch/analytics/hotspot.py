"""Statistically significant hotspots: Getis-Ord Gi* with conditional permutation inference.

The statistic, its analytical z-score and the conditional permutation pseudo p-values come from
PySAL (:class:`esda.getisord.G_Local` with ``star=True``, binary weights); this module only
builds the weights, chooses the measure and classifies the result the way GIS tools do:

* ``gi_bin`` +3/+2/+1: hot spot at 99/95/90 % confidence; -3/-2/-1: cold spot; 0: not
  significant. Significance uses the permutation pseudo p-value (``p_sim``, folded, one-sided as
  esda reports it) and, by default, the Benjamini-Hochberg false-discovery-rate threshold of
  :func:`esda.fdr` at each confidence level; the sign comes from the z-score.
* Areas: desa/kelurahan polygons with Queen contiguity weights. The measure is the count, the
  rate per 1,000 population when the population of every area is known, or else the density per
  km² (one measure for all areas: mixing rates and densities would compare unlike numbers).
* Grid: square cells in local metres with binary distance-band weights (a band of 1.5 cells is
  the eight surrounding cells).

Units: metres and km² for areas and distances; counts are incidents.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from dispatch.analytics.exceptions import AnalyticsInputError

__all__ = [
    "CONFIDENCE_LEVELS",
    "GiStar",
    "Grid",
    "classify",
    "contiguity_weights",
    "distance_band_weights",
    "gi_star",
    "grid_counts",
    "measure_values",
]

#: Confidence levels of the hot/cold classes (bins 1, 2, 3).
CONFIDENCE_LEVELS: tuple[float, float, float] = (0.90, 0.95, 0.99)
DEFAULT_SEED = 112
Measure = Literal["count", "rate_per_1000", "density_per_km2"]


@dataclass(frozen=True)
class GiStar:
    """Gi* of every location, in input order.

    ``z`` analytical z-score (esda ``Zs``); ``p_sim`` permutation pseudo p-value; ``gi_bin``
    -3..3 (see the module docstring); ``p_threshold`` the p-value cut per confidence level
    actually applied (FDR-adjusted when ``fdr``).
    """

    z: np.ndarray
    p_sim: np.ndarray
    gi_bin: np.ndarray
    permutations: int
    seed: int
    fdr: bool
    p_threshold: dict[float, float]

    @property
    def hot(self) -> np.ndarray:
        """Indices of the significant hot spots (any confidence level)."""
        return np.flatnonzero(self.gi_bin > 0)

    @property
    def cold(self) -> np.ndarray:
        """Indices of the significant cold spots (any confidence level)."""
        return np.flatnonzero(self.gi_bin < 0)


def classify(
    z: np.ndarray, p: np.ndarray, *, fdr: bool = True
) -> tuple[np.ndarray, dict[float, float]]:
    """Hot/cold bins -3..3 from z-scores and p-values (FDR-adjusted thresholds when ``fdr``)."""
    import esda

    z, p = np.asarray(z, dtype=np.float64), np.asarray(p, dtype=np.float64)
    bins = np.zeros(len(z), dtype=np.int8)
    cuts: dict[float, float] = {}
    for level, confidence in enumerate(CONFIDENCE_LEVELS, start=1):
        alpha = 1.0 - confidence
        cut = float(esda.fdr(p, alpha)) if fdr and len(p) else alpha
        cuts[confidence] = cut
        sig = p <= cut
        bins[sig] = (level * np.sign(z[sig])).astype(np.int8)
    return bins, cuts


def gi_star(
    values: np.ndarray | Sequence[float],
    weights,
    *,
    permutations: int = 999,
    seed: int = DEFAULT_SEED,
    fdr: bool = True,
) -> GiStar:
    """Getis-Ord Gi* of ``values`` over ``weights`` (a :class:`libpysal.weights.W`).

    Parameters
    ----------
    values
        One non-negative number per location, in the weights' ``id_order``.
    weights
        Spatial weights; transformed to binary, the location itself included (Gi*).
    permutations
        Conditional permutations for the pseudo p-values (seeded: repeatable).
    seed
        Seed of the permutations.
    fdr
        Apply the false-discovery-rate correction to the significance thresholds.

    Raises
    ------
    AnalyticsInputError
        Fewer than 3 locations, a length mismatch, negative or non-finite values, or all zero.
    """
    from esda.getisord import G_Local

    y = np.asarray(values, dtype=np.float64).ravel()
    if len(y) != weights.n:
        raise AnalyticsInputError(
            f"jumlah nilai ({len(y)}) tidak sama dengan jumlah lokasi bobot ({weights.n}) / "
            f"{len(y)} values for {weights.n} weighted locations"
        )
    if len(y) < 3:
        raise AnalyticsInputError(
            "Gi* membutuhkan sedikitnya 3 lokasi / Gi* needs at least 3 locations"
        )
    if not np.isfinite(y).all() or (y < 0).any():
        raise AnalyticsInputError(
            "nilai harus berhingga dan tidak negatif / values must be finite and non-negative"
        )
    if y.sum() <= 0:
        raise AnalyticsInputError(
            "tidak ada kejadian pada data yang dipilih / no incidents in the selected data"
        )
    if permutations < 99:
        raise AnalyticsInputError(
            f"permutasi minimal 99, diberikan {permutations} / at least 99 permutations are "
            f"needed, got {permutations}"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = G_Local(
            y,
            weights,
            transform="B",
            permutations=int(permutations),
            star=True,
            keep_simulations=False,
            n_jobs=1,
            seed=int(seed),
        )
    z = np.asarray(g.Zs, dtype=np.float64)
    p = np.asarray(g.p_sim, dtype=np.float64)
    bins, cuts = classify(z, p, fdr=fdr)
    return GiStar(z, p, bins, int(permutations), int(seed), fdr, cuts)


def contiguity_weights(polygons: Sequence, ids: Sequence[str] | None = None):
    """Queen contiguity weights of polygons (shapely geometries), in input order."""
    from libpysal.weights import Queen

    if len(polygons) < 3:
        raise AnalyticsInputError("butuh sedikitnya 3 wilayah / at least 3 areas are needed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # islands are legitimate (a desa across the water)
        return Queen.from_iterable(list(polygons), ids=list(ids) if ids is not None else None)


def distance_band_weights(xy_m: np.ndarray, band_m: float):
    """Binary distance-band weights of points in metres (neighbours within ``band_m``)."""
    from libpysal.weights import DistanceBand

    xy = np.asarray(xy_m, dtype=np.float64).reshape(-1, 2)
    if not band_m > 0:
        raise AnalyticsInputError(
            f"jarak pita harus positif, diberikan {band_m} / the band must be positive (m)"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return DistanceBand(xy, threshold=float(band_m), binary=True, silence_warnings=True)


def measure_values(
    counts: np.ndarray,
    *,
    population: np.ndarray | None = None,
    area_km2: np.ndarray | None = None,
    measure: Literal["auto", "count"] = "auto",
) -> tuple[np.ndarray, Measure]:
    """The numbers Gi* runs on: counts, rates per 1,000 people, or densities per km².

    ``auto``: rate per 1,000 when ``population`` is given and positive for every area, else
    density per km² when ``area_km2`` is given, else the count.
    """
    c = np.asarray(counts, dtype=np.float64)
    if measure == "count":
        return c, "count"
    if population is not None:
        pop = np.asarray(population, dtype=np.float64)
        if pop.shape == c.shape and np.isfinite(pop).all() and (pop > 0).all():
            return c * 1000.0 / pop, "rate_per_1000"
    if area_km2 is not None:
        area = np.asarray(area_km2, dtype=np.float64)
        if area.shape != c.shape or not (np.isfinite(area).all() and (area > 0).all()):
            raise AnalyticsInputError(
                "luas wilayah harus positif untuk setiap wilayah / every area must have a "
                "positive size in km²"
            )
        return c / area, "density_per_km2"
    return c, "count"


@dataclass(frozen=True)
class Grid:
    """Square cells in local metres: ``col``/``row`` indices, centre ``x_m``/``y_m``, ``count``."""

    cell_m: float
    col: np.ndarray
    row: np.ndarray
    x_m: np.ndarray
    y_m: np.ndarray
    count: np.ndarray

    @property
    def xy_m(self) -> np.ndarray:
        return np.column_stack([self.x_m, self.y_m])

    def weights(self, band_cells: float = 1.5):
        """Distance-band weights over the cell centres (``band_cells`` cell widths)."""
        return distance_band_weights(self.xy_m, band_cells * self.cell_m)


def grid_counts(
    cells: np.ndarray,
    counts: np.ndarray,
    cell_m: float,
    *,
    extent: tuple[int, int, int, int] | None = None,
    keep: np.ndarray | None = None,
) -> Grid:
    """A complete grid from sparse cell counts (cells without incidents count zero).

    Parameters
    ----------
    cells
        ``(n, 2)`` integer column, row of the cells that have incidents (from SQL).
    counts
        Incidents per given cell.
    cell_m
        Cell width in metres.
    extent
        ``(col_min, row_min, col_max, row_max)`` inclusive; default: the cells' bounding box.
    keep
        Optional boolean mask over the full extent (row-major, ``rows x cols``) of cells to keep
        (e.g. centres inside the region); cells with incidents are always kept.
    """
    c = np.asarray(cells, dtype=np.int64).reshape(-1, 2)
    k = np.asarray(counts, dtype=np.float64).ravel()
    if len(c) != len(k):
        raise AnalyticsInputError("sel dan jumlah tidak sepadan / cells and counts differ")
    if extent is None:
        if not len(c):
            raise AnalyticsInputError(
                "tidak ada kejadian pada data yang dipilih / no incidents in the selected data"
            )
        extent = (int(c[:, 0].min()), int(c[:, 1].min()), int(c[:, 0].max()), int(c[:, 1].max()))
    c0, r0, c1, r1 = extent
    ncol, nrow = c1 - c0 + 1, r1 - r0 + 1
    if ncol <= 0 or nrow <= 0 or ncol * nrow > 250_000:
        raise AnalyticsInputError(
            f"grid {ncol} x {nrow} sel tidak dapat dipakai (maks. 250.000 sel); perbesar ukuran "
            f"sel / a {ncol} x {nrow} grid is not usable (at most 250,000 cells); use larger cells"
        )
    full = np.zeros(nrow * ncol)
    inside = (c[:, 0] >= c0) & (c[:, 0] <= c1) & (c[:, 1] >= r0) & (c[:, 1] <= r1)
    flat = (c[inside, 1] - r0) * ncol + (c[inside, 0] - c0)
    np.add.at(full, flat, k[inside])
    mask = np.ones(nrow * ncol, dtype=bool) if keep is None else np.asarray(keep, bool).ravel()
    if mask.shape != full.shape:
        raise AnalyticsInputError("mask grid tidak sepadan / the grid mask has the wrong shape")
    mask = mask | (full > 0)
    idx = np.flatnonzero(mask)
    col, row = idx % ncol + c0, idx // ncol + r0
    return Grid(float(cell_m), col, row, (col + 0.5) * cell_m, (row + 0.5) * cell_m, full[idx])
