"""Coverage of a regency's desa from its posts: population and area reachable within the SLA.

Pure (numpy only). The storage side (``dispatch.coverage_service``) samples demand points inside
every desa, builds the post × point ETA matrix with the road engine (or straight-line estimates
where a region has no road network) and hands the arrays to :func:`coverage_table`.

Population rule (documented for planners, labelled "estimated" wherever it is used): where a
file gives desa population it is used as is; otherwise each kecamatan's population is spread over
its desa in proportion to their area (:func:`spread_by_area`). Inside a desa, the population is
spread evenly over its demand points (each sample stands for an equal share of area).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from dispatch.analytics.exceptions import AnalyticsInputError

__all__ = ["BANDS_MIN", "DesaCoverage", "coverage_table", "gap_order", "spread_by_area"]

#: Travel-time bands reported beside the SLA limit, in minutes.
BANDS_MIN: tuple[int, ...] = (5, 10, 15, 30)


def spread_by_area(
    kec_population: Mapping[str, float], desa_kec: Sequence[str], desa_area_km2: np.ndarray
) -> np.ndarray:
    """Each kecamatan's population spread over its desa in proportion to area.

    Desa of a kecamatan without a figure get ``nan`` (unknown, not zero).
    """
    area = np.asarray(desa_area_km2, dtype=np.float64)
    if area.shape != (len(desa_kec),):
        raise AnalyticsInputError("luas desa tidak cocok / desa areas do not match the desa list")
    out = np.full(len(desa_kec), np.nan)
    kec = np.asarray(desa_kec, dtype=object)
    for code, pop in kec_population.items():
        members = kec == code
        total = area[members].sum()
        if not members.any() or not np.isfinite(pop) or pop < 0:
            continue
        out[members] = pop * (area[members] / total) if total > 0 else pop / members.sum()
    return out


@dataclass(frozen=True)
class DesaCoverage:
    """Coverage of every desa (arrays aligned with the desa list given to :func:`coverage_table`).

    Attributes
    ----------
    population
        Population of each desa (``nan`` where unknown).
    covered_share
        Share (0..1) of the desa's demand points (its area, hence its population under the
        even-spread rule) within ``sla_s`` of the nearest post.
    band_share
        ``(n_desa, len(bands_s))`` shares within each band.
    nearest_eta_s
        Population-weighted mean over the desa's points of the ETA from the nearest post
        (``inf`` when a point is unreachable from every post).
    serving_post
        Index of the post that reaches most of the desa's points first (-1 if none reaches it).
    uncovered_population
        ``population × (1 − covered_share)`` (``nan`` where population is unknown).
    """

    population: np.ndarray
    covered_share: np.ndarray
    band_share: np.ndarray
    nearest_eta_s: np.ndarray
    serving_post: np.ndarray
    uncovered_population: np.ndarray

    @property
    def covered_population(self) -> float:
        known = np.isfinite(self.population)
        return float((self.population[known] * self.covered_share[known]).sum())

    @property
    def total_population(self) -> float:
        return float(np.nansum(self.population))


def coverage_table(
    eta_s: np.ndarray,
    sample_desa: np.ndarray,
    population: np.ndarray,
    *,
    sla_s: float,
    bands_s: Sequence[float] = tuple(m * 60.0 for m in BANDS_MIN),
) -> DesaCoverage:
    """Per-desa coverage from a ``(n_posts, n_samples)`` ETA matrix.

    ``sample_desa[j]`` is the desa index of demand point ``j``; every desa must have at least
    one point. ``population`` has one entry per desa (``nan`` = unknown).
    """
    eta = np.asarray(eta_s, dtype=np.float64)
    which = np.asarray(sample_desa, dtype=np.int64)
    pop = np.asarray(population, dtype=np.float64)
    n_desa = len(pop)
    if eta.ndim != 2 or eta.shape[1] != len(which):
        raise AnalyticsInputError(
            "matriks ETA tidak cocok dengan titik permintaan / the ETA matrix does not match "
            "the demand points"
        )
    if len(which) and (which.min() < 0 or which.max() >= n_desa):
        raise AnalyticsInputError("indeks desa di luar rentang / desa index out of range")
    if not np.isfinite(sla_s) or sla_s <= 0:
        raise AnalyticsInputError("batas SLA harus positif / the SLA limit must be positive")
    counts = np.bincount(which, minlength=n_desa).astype(np.float64)
    if (counts == 0).any():
        raise AnalyticsInputError(
            "setiap desa perlu minimal satu titik / every desa needs at least one demand point"
        )
    if eta.shape[0]:
        best = eta.min(axis=0)
        first = eta.argmin(axis=0)
    else:  # no post at all: nothing is reachable
        best = np.full(len(which), np.inf)
        first = np.zeros(len(which), dtype=np.int64)
    reached = np.isfinite(best)

    def share(limit: float) -> np.ndarray:
        return np.bincount(which, weights=(best <= limit).astype(np.float64),
                           minlength=n_desa) / counts

    covered = share(float(sla_s))
    bands = np.column_stack([share(float(b)) for b in bands_s]) if len(bands_s) else (
        np.zeros((n_desa, 0)))
    finite_sum = np.bincount(which, weights=np.where(reached, best, 0.0), minlength=n_desa)
    all_reached = np.bincount(which, weights=reached.astype(np.float64), minlength=n_desa) == counts
    nearest = np.where(all_reached, finite_sum / counts, np.inf)
    serving = np.full(n_desa, -1, dtype=np.int64)
    if eta.shape[0]:
        votes = np.zeros((n_desa, eta.shape[0]))
        np.add.at(votes, (which[reached], first[reached]), 1.0)
        has = votes.sum(axis=1) > 0
        serving[has] = votes[has].argmax(axis=1)
    return DesaCoverage(pop, covered, bands, nearest, serving, pop * (1.0 - covered))


def gap_order(cov: DesaCoverage) -> np.ndarray:
    """Desa indices ranked by uncovered population (unknown population last, then by ETA)."""
    unc = np.where(np.isfinite(cov.uncovered_population), cov.uncovered_population, -1.0)
    eta = np.where(np.isfinite(cov.nearest_eta_s), cov.nearest_eta_s, np.finfo(float).max)
    return np.lexsort((-eta, -unc))
