"""Emerging hot spots: Gi* per space-time bin and a Mann-Kendall trend per location.

The space-time cube has one row per location (desa or grid cell) and one column per time step
(week, month...), holding incident counts. For every time step, Gi* (:func:`gi_star`: binary
weights, conditional permutations, FDR) is computed over the locations with that step's counts;
a bin is a significant hot (cold) spot when its Gi* bin is positive (negative) at the chosen
confidence. The trend of each location's Gi* z-scores over time is tested with Mann-Kendall
(Kendall's tau between time and z; :func:`scipy.stats.kendalltau`).

Categories, following ArcGIS Pro's *Emerging Hot Spot Analysis* (cold spots mirror them:
swap hot and cold). ``n`` is the number of time steps, "the last" is the most recent step:

``new``
    Hot in the last step and never hot before.
``consecutive``
    An uninterrupted run of at least two hot steps ending with the last one, never hot before
    that run, and fewer than 90 % of all steps hot.
``intensifying``
    Hot in at least 90 % of the steps, the last included, and the z-scores increase
    significantly over time (Mann-Kendall).
``persistent``
    Hot in at least 90 % of the steps, the last included, with no significant trend.
``diminishing``
    Hot in at least 90 % of the steps, the last included, and the z-scores decrease
    significantly over time.
``sporadic``
    Hot in the last step, on-again off-again before, fewer than 90 % of the steps hot and never
    a cold spot.
``oscillating``
    Hot in the last step, a cold spot in some earlier step, fewer than 90 % of the steps hot.
``historical``
    Not hot in the last step, but hot in at least 90 % of the steps.
``none``
    No pattern detected.

A location gets ``<category>_hot`` or ``<category>_cold`` (hot patterns are tested first).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from dispatch.analytics.exceptions import AnalyticsInputError
from dispatch.analytics.hotspot import DEFAULT_SEED, gi_star

__all__ = ["CATEGORIES", "EmergingHotspots", "categorise", "emerging_hotspots", "mann_kendall"]

CATEGORIES = (
    "new",
    "consecutive",
    "intensifying",
    "persistent",
    "diminishing",
    "sporadic",
    "oscillating",
    "historical",
)
_MOST = 0.9


@dataclass(frozen=True)
class EmergingHotspots:
    """Per location: ``category`` (e.g. ``"new_hot"``, ``"none"``), Mann-Kendall ``trend_tau``
    and ``trend_p`` of the z-scores; per bin: ``z`` and ``gi_bin`` (locations x steps)."""

    category: list[str]
    trend_tau: np.ndarray
    trend_p: np.ndarray
    z: np.ndarray
    gi_bin: np.ndarray


def mann_kendall(series: np.ndarray) -> tuple[float, float]:
    """Mann-Kendall trend test of one series: (Kendall's tau against time, two-sided p)."""
    from scipy.stats import kendalltau

    y = np.asarray(series, dtype=np.float64)
    if len(y) < 3 or np.ptp(y) == 0:
        return 0.0, 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = kendalltau(np.arange(len(y)), y)
    tau, p = float(res.statistic), float(res.pvalue)
    if not np.isfinite(tau):
        return 0.0, 1.0
    return tau, p


def _pattern(hot: np.ndarray, cold: np.ndarray, trend: int) -> str:
    """The hot-spot category of one location from its hot/cold steps (``trend`` -1/0/+1)."""
    n = len(hot)
    share = hot.sum() / n
    last = bool(hot[-1])
    if share >= _MOST:
        if not last:
            return "historical"
        return {1: "intensifying", -1: "diminishing"}.get(trend, "persistent")
    if not last:
        return "none"
    before = hot[:-1]
    if not before.any():
        return "new"
    run = n - 1
    while run > 0 and hot[run - 1]:
        run -= 1
    if n - run >= 2 and not hot[:run].any():
        return "consecutive"
    if cold[:-1].any():
        return "oscillating"
    return "sporadic"


def categorise(
    gi_bin: np.ndarray,
    trend_tau: np.ndarray,
    trend_p: np.ndarray,
    *,
    alpha: float = 0.10,
    min_bin: int = 1,
) -> list[str]:
    """Categories from per-bin Gi* classes (locations x steps) and the z-score trends.

    ``min_bin`` is the smallest ``|gi_bin|`` that counts as significant (1 = 90 %).
    """
    b = np.asarray(gi_bin)
    out: list[str] = []
    for i in range(b.shape[0]):
        hot, cold = b[i] >= min_bin, b[i] <= -min_bin
        sig = trend_p[i] <= alpha
        up = int(np.sign(trend_tau[i])) if sig else 0
        name = _pattern(hot, cold, up)
        if name != "none":
            out.append(f"{name}_hot")
            continue
        name = _pattern(cold, hot, -up)
        out.append("none" if name == "none" else f"{name}_cold")
    return out


def emerging_hotspots(
    cube: np.ndarray,
    weights,
    *,
    permutations: int = 999,
    seed: int = DEFAULT_SEED,
    fdr: bool = True,
    confidence: float = 0.90,
) -> EmergingHotspots:
    """Emerging hot spot categories of a space-time cube of counts (locations x steps).

    Parameters
    ----------
    cube
        Incident counts, one row per location (in the weights' order), one column per time
        step, oldest first.
    weights
        :class:`libpysal.weights.W` over the locations.
    confidence
        0.90, 0.95 or 0.99: the Gi* bins and the trend test use this level.

    Raises
    ------
    AnalyticsInputError
        Fewer than 2 time steps, a shape mismatch or an unknown confidence level.
    """
    c = np.asarray(cube, dtype=np.float64)
    if c.ndim != 2 or c.shape[1] < 2:
        raise AnalyticsInputError(
            "kubus ruang-waktu butuh sedikitnya 2 langkah waktu / the space-time cube needs at "
            "least 2 time steps"
        )
    levels = {0.90: 1, 0.95: 2, 0.99: 3}
    if confidence not in levels:
        raise AnalyticsInputError(
            f"tingkat kepercayaan harus 0.90, 0.95 atau 0.99, diberikan {confidence} / "
            f"confidence must be 0.90, 0.95 or 0.99, got {confidence}"
        )
    n_loc, n_steps = c.shape
    z = np.zeros((n_loc, n_steps))
    bins = np.zeros((n_loc, n_steps), dtype=np.int8)
    for t in range(n_steps):
        if c[:, t].sum() <= 0:
            continue  # no incidents in this step: nothing is significant
        g = gi_star(c[:, t], weights, permutations=permutations, seed=seed + t, fdr=fdr)
        z[:, t], bins[:, t] = g.z, g.gi_bin
    tau = np.zeros(n_loc)
    p = np.ones(n_loc)
    for i in range(n_loc):
        tau[i], p[i] = mann_kendall(z[i])
    cats = categorise(bins, tau, p, alpha=1.0 - confidence, min_bin=levels[confidence])
    return EmergingHotspots(cats, tau, p, z, bins)
