"""Pure tenancy rules: a principal's scope, and which live events a regency-bound view gets."""

from __future__ import annotations

from api.live import LiveView, event_regencies, visible
from api.security import Principal, Role
from dispatch.scope import Scope


def test_principal_scope_carries_regencies_and_only_a_desks_agency():
    desk = Principal(1, "meja", Role.AGENCY, agency_code="DAMKAR",
                     kode_kabs=frozenset({"51.06"}))
    assert desk.scope == Scope(frozenset({"51.06"}), "DAMKAR")
    assert desk.scope.allows("51.06") and not desk.scope.allows("34.71")
    assert not desk.scope.allows(None)  # a row without a regency is for installation-wide users
    dispatcher = Principal(2, "operator", Role.DISPATCHER, agency_code="DAMKAR",
                           kode_kabs=frozenset({"34.71", "51.06"}))
    assert dispatcher.scope.agency_code is None  # only desks are bound to their agency
    assert dispatcher.scope.allows("34.71") and dispatcher.scope.allows("51.06")
    admin = Principal(3, "admin", Role.ADMIN)
    assert admin.scope.unrestricted and admin.scope.allows(None)


def _event(kind: str, **data) -> dict:
    return {"kind": kind, "data": data}


def test_regency_bound_views_get_only_events_of_their_regencies():
    events = [_event("incident", incident_id=1, kode_kab="34.71", caller_phone="081234567890"),
              _event("incident", incident_id=2, kode_kab="51.06"),
              _event("position", device_id="bli-01"),  # regency from the lookup
              _event("position", device_id="yk-01"),
              _event("sla", agency="DAMKAR")]  # no regency at all: nobody bound gets it
    regencies = {("device", "bli-01"): frozenset({"51.06"}),
                 ("device", "yk-01"): frozenset({"34.71"})}
    yogya = LiveView("dispatcher", kode_kabs=frozenset({"34.71"}))
    shown = visible(events, yogya, {}, regencies)
    assert [e["data"].get("incident_id") or e["data"].get("device_id") for e in shown] == [
        1, "yk-01"]
    assert shown[0]["data"]["caller_phone"] == "081234567890"  # a dispatcher's full view
    province = LiveView("planner", kode_kabs=frozenset({"34.71", "51.06"}))
    assert len(visible(events, province, {}, regencies)) == 4
    assert "08123" not in str(visible(events, province, {}, regencies))  # planners: masked
    installation = LiveView("dispatcher")
    assert visible(events, installation) == events


def test_an_event_naming_two_regencies_reaches_only_views_holding_both():
    data = {"unit_id": 7, "kode_kab": "34.71"}
    assert event_regencies(data, {("unit", 7): frozenset({"51.06"})}) == {"34.71", "51.06"}
    view = LiveView("dispatcher", kode_kabs=frozenset({"34.71"}))
    assert visible([{"kind": "unit", "data": data}], view, {},
                   {("unit", 7): frozenset({"51.06"})}) == []
