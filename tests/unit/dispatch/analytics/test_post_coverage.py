"""Coverage from posts on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.analytics.exceptions import AnalyticsInputError
from dispatch.analytics.post_coverage import coverage_table, gap_order, spread_by_area

INF = math.inf


def test_spread_by_area_follows_the_documented_rule():
    pop = spread_by_area({"K1": 1000.0, "K2": 300.0}, ["K1", "K1", "K2", "K3"],
                         np.array([1.0, 3.0, 2.0, 5.0]))
    assert pop[:3].tolist() == [250.0, 750.0, 300.0]
    assert math.isnan(pop[3])  # a kecamatan without a figure stays unknown, not zero


def test_table_by_hand():
    # two posts, three desa: desa 0 has points (a, b), desa 1 has (c), desa 2 has (d, e)
    eta = np.array([
        # a     b     c      d     e
        [300., 900., 1200., INF, INF],   # post 0
        [600., 400., 2000., INF, 1700.],  # post 1
    ])
    which = np.array([0, 0, 1, 2, 2])
    cov = coverage_table(eta, which, np.array([1000.0, 500.0, np.nan]), sla_s=600.0,
                         bands_s=(300.0, 900.0))
    # nearest per point: a 300 (post 0), b 400 (post 1), c 1200 (post 0), d inf, e 1700 (post 1)
    assert cov.covered_share.tolist() == [1.0, 0.0, 0.0]
    assert cov.band_share.tolist() == [[0.5, 1.0], [0.0, 0.0], [0.0, 0.0]]
    assert cov.nearest_eta_s[:2].tolist() == [350.0, 1200.0]
    assert cov.nearest_eta_s[2] == INF  # one of its points no post reaches
    assert cov.serving_post[1] == 0 and cov.serving_post[2] == 1
    assert cov.serving_post[0] in (0, 1)  # a tie: one point each
    assert cov.uncovered_population[:2].tolist() == [0.0, 500.0]
    assert cov.covered_population == 1000.0 and cov.total_population == 1500.0
    assert gap_order(cov).tolist() == [1, 0, 2]


def test_no_post_covers_nothing():
    cov = coverage_table(np.zeros((0, 2)), np.array([0, 1]), np.array([10.0, 20.0]), sla_s=60)
    assert cov.covered_share.tolist() == [0.0, 0.0]
    assert cov.serving_post.tolist() == [-1, -1]
    assert np.isinf(cov.nearest_eta_s).all()


@pytest.mark.parametrize("kwargs", [
    {"eta_s": np.zeros((1, 3)), "sample_desa": np.array([0, 1]), "population": np.ones(2)},
    {"eta_s": np.zeros((1, 2)), "sample_desa": np.array([0, 0]), "population": np.ones(2)},
    {"eta_s": np.zeros((1, 2)), "sample_desa": np.array([0, 5]), "population": np.ones(2)},
])
def test_inconsistent_input_is_refused(kwargs):
    with pytest.raises(AnalyticsInputError):
        coverage_table(**kwargs, sla_s=60)


def test_sla_must_be_positive():
    with pytest.raises(AnalyticsInputError):
        coverage_table(np.zeros((1, 1)), np.array([0]), np.ones(1), sla_s=0)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.integers(1, 5), st.integers(0, 10_000), st.floats(1, 3600))
def test_shares_are_monotone_in_the_limit(n_posts, n_desa, seed, sla):
    rng = np.random.default_rng(seed)
    which = np.concatenate([np.arange(n_desa), rng.integers(0, n_desa, 7)])
    eta = rng.uniform(0, 4000, (n_posts, len(which)))
    eta[rng.random(eta.shape) < 0.2] = INF
    pop = rng.uniform(0, 1000, n_desa)
    low = coverage_table(eta, which, pop, sla_s=sla)
    high = coverage_table(eta, which, pop, sla_s=sla * 2)
    assert (low.covered_share <= high.covered_share).all()
    assert ((0 <= low.covered_share) & (low.covered_share <= 1)).all()
    assert low.covered_population <= high.covered_population + 1e-9
    # adding a post never lowers coverage
    more = coverage_table(np.vstack([eta, rng.uniform(0, 4000, len(which))]), which, pop,
                          sla_s=sla)
    assert (more.covered_share >= low.covered_share).all()
