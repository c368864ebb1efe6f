"""The audit hash chain (pure): every edit, deletion and reordering is found at its place."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.chain import GENESIS, canonical_entry, check_chain, extend, link_hash

T0 = datetime(2026, 11, 3, 1, 2, 3, 456789, tzinfo=UTC)


def entries(n: int) -> list[dict]:
    return [{"id": 10 + i, "kode_kab": "51.06", "actor": f"user{i}",
             "at": T0 + timedelta(seconds=i), "entity": "assignment", "entity_id": i,
             "action": "arrive:gps", "before": {"arrived_at": None},
             "after": {"arrived_at": "2026-11-03T01:02:03Z", "evidence_digest": f"{i:064x}",
                       "dwell_s": 30.5, "nested": [1, 2.25, "ü"]}}
            for i in range(n)]


def chained(n: int):
    rows = entries(n)
    return rows, extend(0, GENESIS, rows)


def test_intact_chain_checks_out():
    rows, links = chained(5)
    report = check_chain(links, {r["id"]: r for r in rows})
    assert report.ok and report.links == 5 and report.head_seq == 5
    assert report.head_hash == links[-1].entry_hash
    assert [k.seq for k in links] == [1, 2, 3, 4, 5]
    assert links[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.entry_hash for a, b in zip(links, links[1:], strict=False))


def test_empty_chain_is_intact():
    report = check_chain([], {})
    assert report.ok and report.head_seq == 0 and report.head_hash == GENESIS


def test_canonical_text_is_stable_and_time_exact():
    row = entries(1)[0]
    text = canonical_entry(1, row)
    assert text == canonical_entry(1, dict(reversed(list(row.items()))))
    assert '"at":"2026-11-03T01:02:03.456789+00:00"' in text
    same_instant = dict(row, at=row["at"].astimezone(ZoneInfo("Asia/Makassar")))
    assert canonical_entry(1, same_instant) == text
    with pytest.raises(ValueError):
        canonical_entry(1, dict(row, at=row["at"].replace(tzinfo=None)))


def test_edited_entry_is_named():
    rows, links = chained(5)
    by_id = {r["id"]: dict(r) for r in rows}
    by_id[12] = dict(by_id[12], after={**by_id[12]["after"], "arrived_at": "2026-11-03T00:50Z"})
    f = check_chain(links, by_id).finding
    assert f is not None and (f.kind, f.seq, f.audit_id) == ("edited", 3, 12)


def test_deleted_entry_and_deleted_link_are_named():
    rows, links = chained(5)
    by_id = {r["id"]: r for r in rows}
    del by_id[13]
    f = check_chain(links, by_id).finding
    assert f is not None and (f.kind, f.seq, f.audit_id) == ("deleted", 4, 13)
    rows, links = chained(5)
    f = check_chain(links[:2] + links[3:], {r["id"]: r for r in rows if r["id"] != 12}).finding
    assert f is not None and (f.kind, f.seq) == ("deleted", 3)


def test_reordered_links_are_named():
    rows, links = chained(5)
    # Swap the positions of links 2 and 3 (each keeps its hashes).
    swapped = [links[0], replace(links[2], seq=2), replace(links[1], seq=3), *links[3:]]
    f = check_chain(swapped, {r["id"]: r for r in rows}).finding
    assert f is not None and f.kind == "reordered" and f.seq == 2


def test_rehashed_link_breaks_the_next_one():
    rows, links = chained(4)
    by_id = {r["id"]: r for r in rows}
    by_id[11] = dict(by_id[11], actor="mallory")
    forged = replace(links[1], entry_hash=link_hash(links[1].prev_hash, 2, by_id[11]))
    f = check_chain([links[0], forged, *links[2:]], by_id).finding
    assert f is not None and (f.kind, f.seq) == ("broken", 3)


def test_entry_outside_the_chain_is_named():
    rows, links = chained(3)
    by_id = {r["id"]: r for r in rows}
    by_id[99] = dict(rows[0], id=99)
    f = check_chain(links, by_id).finding
    assert f is not None and (f.kind, f.audit_id) == ("unchained", 99)


FIELDS = ("kode_kab", "actor", "at", "entity", "entity_id", "action", "before", "after")


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 8), data=st.data())
def test_any_single_change_to_any_entry_is_found(n, data):
    rows, links = chained(n)
    k = data.draw(st.integers(0, n - 1))
    field = data.draw(st.sampled_from(FIELDS))
    row = dict(rows[k])
    if field == "at":
        row["at"] = row["at"] + timedelta(microseconds=data.draw(st.integers(1, 10**9)))
    elif field in ("before", "after"):
        row[field] = {**(row[field] or {}), data.draw(st.text(max_size=5)): data.draw(
            st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                      st.text(max_size=5), st.none()))}
        if row[field] == rows[k][field]:
            return
    else:
        new = data.draw(st.one_of(st.text(max_size=8), st.integers(), st.none()))
        if new == row[field]:
            return
        row[field] = new
    by_id = {r["id"]: r for r in rows}
    by_id[row["id"]] = row
    f = check_chain(links, by_id).finding
    assert f is not None and (f.kind, f.seq, f.audit_id) == ("edited", k + 1, row["id"])
