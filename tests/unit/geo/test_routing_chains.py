"""Chains of through-nodes: which nodes are contracted, and the skeleton's shortcuts."""

from __future__ import annotations

import numpy as np
import pytest

from geo.routing.chains import Chains

# J1=0, J2=1 junctions; a=2, b=3 two-way chain J1-a-b-J2; c=4, d=5 one-way chain J2->c->d->J1;
# e=6, f=7 two-way loop J1-e-f-J1; g=8, h=9, i=10 an isolated two-way ring; k=11 a dead end
# hanging off a (two-way), which makes a a junction; J1->J2 a direct one-way road.
ROADS = [
    (0, 2, True, 10.0), (2, 3, True, 20.0), (3, 1, True, 30.0),
    (1, 4, False, 5.0), (4, 5, False, 6.0), (5, 0, False, 7.0),
    (0, 6, True, 1.0), (6, 7, True, 2.0), (7, 0, True, 3.0),
    (8, 9, True, 4.0), (9, 10, True, 4.0), (10, 8, True, 4.0),
    (0, 1, False, 50.0),
]


def _chains(roads, n=12, core=None):
    u, v, w = [], [], []
    for a, b, two, s in roads:
        u.append(a), v.append(b), w.append(s)
        if two:
            u.append(b), v.append(a), w.append(s * 1.5)  # the way back is slower
    u, v, w = np.array(u), np.array(v), np.array(w)
    ids = {(int(a), int(b)): k for k, (a, b) in enumerate(zip(u, v, strict=True))}

    def edge_id(tails, heads):
        return np.array([ids[(int(a), int(b))] for a, b in zip(tails, heads, strict=True)])

    core_edge = np.ones(len(u), dtype=bool) if core is None else core(u, v)
    return Chains.of(n, u, v, core_edge, edge_id, w, w * 10.0), u, v, w


def test_pass_nodes_chains_and_shortcuts():
    ch, *_ = _chains(ROADS)
    assert set(np.flatnonzero(ch.is_pass)) == {2, 3, 4, 5, 6, 7} | ({8, 9, 10} - {8})
    assert not ch.is_pass[8]  # the ring got one junction (its lowest node)
    runs = {
        tuple(ch.nodes[ch.ptr[c] : ch.ptr[c + 1]].tolist()): bool(ch.two_way[c])
        for c in range(len(ch.ptr) - 1)
    }
    assert runs[(0, 2, 3, 1)] is True
    assert runs[(1, 4, 5, 0)] is False
    assert runs.get((0, 6, 7, 0)) is True or runs.get((0, 7, 6, 0)) is True
    assert runs.get((8, 9, 10, 8)) is True or runs.get((8, 10, 9, 8)) is True
    tails, heads, sec, metres, first = ch.shortcuts()
    cuts = {
        (int(a), int(b), int(f)): (float(s), float(m))
        for a, b, s, m, f in zip(tails, heads, sec, metres, first, strict=True)
    }
    assert cuts == {
        (0, 1, 2): (60.0, 600.0),  # J1 -> a -> b -> J2
        (1, 0, 3): (90.0, 900.0),  # J2 -> b -> a -> J1, slower way back
        (1, 0, 4): (18.0, 180.0),  # the one-way chain
    }  # loops (J1 -> J1, the ring) give no shortcut
    first_need, second_need = ch.needs()
    assert (first_need[2], second_need[2]) == (1, 0)  # two-way: both ends
    assert (first_need[4], second_need[4]) == (0, 0)  # one-way: only where it leads
    assert (first_need[1], second_need[1]) == (1, 1)  # a junction: itself


def test_a_dead_end_makes_a_junction_unless_it_is_outside_the_core():
    roads = [*ROADS, (2, 11, True, 3.0)]
    ch, *_ = _chains(roads)
    assert not ch.is_pass[2] and ch.is_pass[3]
    # the same graph with the dead end left out of the core: a is a pass node again
    ch, *_ = _chains(roads, core=lambda u, v: (u != 11) & (v != 11))
    assert ch.is_pass[2] and not ch.is_pass[11]


def test_fill_takes_the_better_end_and_never_an_end_that_runs_back_through_the_chain():
    ch, *_ = _chains(ROADS)
    n = 12
    dist = np.full(n, np.inf)
    length = np.full(n, np.inf)
    pred = np.full(n, -9999, dtype=np.int32)
    dist[0], dist[1] = 0.0, 100.0  # the destination is J1; J2 is 100 s away
    length[0], length[1] = 0.0, 1000.0
    pred[0], pred[1] = n, 0
    ch.fill(dist, pred, length, np.inf)
    # a: back to J1 (15 s) beats on to J2 (50 + 100 s)
    assert dist[2] == pytest.approx(15.0) and pred[2] == 0 and length[2] == pytest.approx(150.0)
    # b: back via a (30 + 15) beats J2 (30 + 100)
    assert dist[3] == pytest.approx(45.0) and pred[3] == 2
    assert dist[4] == pytest.approx(13.0) and pred[4] == 5  # one-way: only forward
    # J2's own path entering this chain (pred = b) is never used for the chain's nodes
    pred[1] = 3
    dist[1] = 0.0  # even when it would look better
    ch.fill(dist, pred, length, np.inf)
    assert pred[3] == 2 and dist[3] == pytest.approx(45.0)
    # beyond the limit: unreached
    ch.fill(dist, pred, length, 20.0)
    assert np.isinf(dist[3]) and pred[3] == -9999 and dist[2] == pytest.approx(15.0)
