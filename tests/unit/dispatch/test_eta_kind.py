"""``eta_kind`` of a ranked unit: "road" for a road-network ETA, "estimate" for the straight-line
fallback (a regency without a road network), None when there is no ETA at all."""

from dispatch.geodesy import haversine_m
from dispatch.ranking import ETA_ESTIMATE, ETA_ROAD, RoadEstimate, rank_units
from dispatch.recommend_service import recommendation_dict
from tests.unit.dispatch.test_ranking import SPEEDS, TARGET, cand


def test_each_unit_says_which_kind_of_eta_it_has():
    units = [cand(1, 800), cand(2, 1200), cand(3, None, source="none"), cand(4, 300)]
    road = {1: RoadEstimate(True, 120.0, 1100.0), 4: RoadEstimate(False, reason="not_connected")}
    ranked = {r.unit_id: r for r in rank_units(units, TARGET, road=road, speeds=SPEEDS)}
    assert (ranked[1].eta_kind, ranked[1].estimated) == (ETA_ROAD, False)
    assert (ranked[2].eta_kind, ranked[2].estimated) == (ETA_ESTIMATE, True)
    assert ranked[2].eta_s == haversine_m(ranked[2].position, TARGET) * 1.4 / 10.0
    assert ranked[3].eta_kind is None and ranked[4].eta_kind is None
    assert recommendation_dict(ranked[2])["eta_kind"] == "estimate"
