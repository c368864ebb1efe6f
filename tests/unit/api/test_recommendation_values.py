"""The typed recommendation values and their JSON: an agency's ranked units are read by
attribute (the escalation's next unit is the first reachable one), and the JSON written at the
edges is exactly what the response models promise, rounded and with a named position."""

from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from api.schemas_dispatch import AgencyRecommendationOut, RecommendationsOut
from dispatch.ranking import RoadEstimate, rank_units
from dispatch.recommend_service import (
    AgencyRecommendation,
    agency_recommendation_dict,
    recommendation_dict,
)
from tests.unit.dispatch.test_ranking import SPEEDS, TARGET, cand


def _agency(units) -> AgencyRecommendation:
    return AgencyRecommendation("DAMKAR", "Dinas Pemadam Kebakaran", "dispatch", ("pumper",),
                                15, tuple(units))


def test_first_reachable_is_the_best_unit_only_when_it_can_reach() -> None:
    road = {1: RoadEstimate(True, 300.0, 2500.0), 2: RoadEstimate(False, reason="not_connected")}
    ranked = rank_units([cand(1, 900), cand(2, 100)], TARGET, road=road, speeds=SPEEDS)
    assert _agency(ranked).first_reachable.unit_id == 1
    only_unreachable = rank_units([cand(2, 100)], TARGET, road=road, speeds=SPEEDS)
    assert only_unreachable[0].reason == "not_connected"
    assert _agency(only_unreachable).first_reachable is None
    assert _agency([]).first_reachable is None


def test_the_json_is_what_the_response_model_promises() -> None:
    ranked = rank_units([cand(1, 900), cand(2, None, source="none")], TARGET, road={},
                        speeds=SPEEDS, on_scene_s=900.0, capabilities=["pumper"])
    doc = agency_recommendation_dict(_agency(ranked))
    assert set(doc) == {f.name for f in dataclasses.fields(AgencyRecommendation)}
    assert set(doc) == set(AgencyRecommendationOut.model_fields)
    assert doc["capabilities"] == ["pumper"] and doc["on_scene_min"] == 15
    assert [u["call_sign"] for u in doc["units"]] == ["U1", "U2"]
    first, second = doc["units"]
    assert first["position"] == {"lon": ranked[0].position.lon, "lat": ranked[0].position.lat}
    assert second["position"] is None and second["reachable"] is False
    parsed = RecommendationsOut.model_validate({"incident_id": 7, "agencies": [doc]})
    assert parsed.agencies[0].units[0].eta_kind == "estimate"


@given(st.floats(10.0, 50_000.0))
def test_seconds_and_metres_are_written_to_a_tenth(dx_m: float) -> None:
    [r] = rank_units([cand(1, dx_m)], TARGET, road={}, speeds=SPEEDS)
    doc = recommendation_dict(r)
    for key in ("eta_s", "distance_m", "straight_line_m"):
        assert doc[key] == round(getattr(r, key), 1)
