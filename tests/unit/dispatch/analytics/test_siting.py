"""LSCP / MCLP: optimal posts known by construction, and objectives equal to spopt's."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from dispatch.analytics.exceptions import AnalyticsInputError
from dispatch.analytics.siting import coverage, lscp, mclp, what_if


def _line_instance():
    """Demand in three clusters at 0, 10 and 20 km on a line (weights 5, 1, 3 per point, four
    points each); candidates every kilometre from 0 to 20; a post covers 1.5 km."""
    demand = np.repeat([0.0, 10.0, 20.0], 4) + np.tile([-0.3, -0.1, 0.1, 0.3], 3)
    weights = np.repeat([5.0, 1.0, 3.0], 4)
    cand = np.arange(21, dtype=float)
    minutes = np.abs(demand[:, None] - cand[None, :])  # 1 km = 1 minute
    return minutes <= 1.5, weights


def test_lscp_one_post_per_cluster():
    cover, _ = _line_instance()
    r = lscp(cover)
    assert r.optimal and r.mip_gap == 0.0
    assert len(r.new_posts) == 3
    clusters = sorted({int(round(p / 10.0)) for p in r.new_posts})
    assert clusters == [0, 1, 2]
    assert r.covered_share == 1.0 and len(r.uncoverable) == 0


def test_mclp_picks_the_heaviest_clusters_and_keeps_existing_posts():
    cover, w = _line_instance()
    r = mclp(cover, 2, weights=w)
    assert r.optimal and r.objective == pytest.approx(32.0)
    assert sorted(int(round(p / 10.0)) for p in r.new_posts) == [0, 2]
    # an existing post at km 10 is kept; one new post goes to the heaviest cluster
    r = mclp(cover, 1, weights=w, existing=[10])
    assert 10 in r.posts.tolist() and len(r.new_posts) == 1
    assert abs(int(r.new_posts[0])) <= 1
    assert r.covered_weight == pytest.approx(24.0)


def test_uncoverable_demand_is_reported_not_infeasible():
    cover, w = _line_instance()
    cover = np.vstack([cover, np.zeros((1, cover.shape[1]), bool)])
    r = lscp(cover)
    assert r.optimal and r.uncoverable.tolist() == [12]


def test_what_if_remove_and_add_post_changes_coverage_and_gaps():
    cover, w = _line_instance()
    before, after = what_if(cover, [0, 10, 20], remove=[20], weights=w)
    assert before.covered_share == 1.0 and len(before.gaps) == 0
    assert after.covered_weight == pytest.approx(24.0)
    assert sorted(after.gaps.tolist()) == [8, 9, 10, 11]
    _, moved = what_if(cover, [0, 10, 20], remove=[20], add=[19], weights=w)
    assert moved.covered_share == 1.0


def test_objective_equals_spopt_on_the_same_matrix():
    from pulp import HiGHS
    from spopt.locate import LSCP, MCLP

    rng = np.random.default_rng(11)
    demand = rng.uniform(0, 10, (300, 2))
    cand = rng.uniform(0, 10, (40, 2))
    cost = np.sqrt(((demand[:, None, :] - cand[None, :, :]) ** 2).sum(-1))
    w = rng.integers(1, 20, 300).astype(float)
    ours = mclp(cost <= 1.8, 5, weights=w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = MCLP.from_cost_matrix(cost, w, service_radius=1.8, p_facilities=5)
        ref = ref.solve(HiGHS(msg=False))
        ref_lscp = LSCP.from_cost_matrix(cost, service_radius=3.0).solve(HiGHS(msg=False))
    assert ours.optimal and ours.mip_gap == 0.0
    assert ours.covered_weight == pytest.approx(ref.problem.objective.value())
    ours_lscp = lscp(cost <= 3.0)
    assert len(ours_lscp.new_posts) == round(ref_lscp.problem.objective.value())


def test_coverage_of_posts_and_bad_inputs():
    cover, w = _line_instance()
    c = coverage(cover, [0], w)
    assert c.covered.sum() == 4 and c.gaps[:4].tolist() == [8, 9, 10, 11]  # heaviest gaps first
    with pytest.raises(AnalyticsInputError, match=" / "):
        mclp(cover, 50)
    with pytest.raises(AnalyticsInputError, match=" / "):
        mclp(cover, 1, weights=np.ones(3))
    with pytest.raises(AnalyticsInputError, match=" / "):
        lscp(cover, existing=[99])
