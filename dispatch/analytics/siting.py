"""Location-allocation of posts over a road-ETA coverage matrix: LSCP, MCLP and what-if.

Both problems are solved exactly as mixed-integer programmes with HiGHS (``highspy``); the
result carries the solver's status, the relative MIP gap and the solve time, so a planner can
tell an optimal answer from a time-limited one.

Notation: demand point ``i`` (weight ``w_i``: incidents or population), candidate ``j``,
``a_ij = 1`` when a post at ``j`` reaches ``i`` within the standard (T minutes of road ETA),
``x_j`` = post at ``j``. Existing posts are candidates fixed to ``x_j = 1``.

* **LSCP** (location set covering): minimise the number of new posts so that every demand
  point that any candidate can reach is covered: ``min sum x_j`` s.t. ``sum_j a_ij x_j >= 1``.
  Demand points no candidate reaches are reported in ``uncoverable`` instead of making the
  problem infeasible.
* **MCLP** (maximal covering): ``p`` new posts maximising covered demand:
  ``max sum w_i y_i`` s.t. ``y_i <= sum_j a_ij x_j``, ``sum_(j new) x_j = p``, ``0 <= y_i <= 1``
  (``y`` need not be integer: for integer ``x`` an optimal ``y`` is 0/1).

Demand already covered by an existing post is constant in both problems and is taken out of the
model before solving (it is counted in the result).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from dispatch.analytics.exceptions import AnalyticsInputError

__all__ = ["Coverage", "SitingResult", "coverage", "lscp", "mclp", "what_if"]


@dataclass(frozen=True)
class SitingResult:
    """A solved siting problem.

    ``posts`` all selected candidate indices (existing included), ``new_posts`` the added ones;
    ``covered_weight``/``total_weight`` demand (existing coverage included); ``uncoverable``
    demand indices no candidate reaches; ``status`` HiGHS model status text; ``mip_gap``
    relative gap (0 = proven optimal); ``solve_s`` wall-clock seconds in the solver.
    """

    problem: str
    posts: np.ndarray
    new_posts: np.ndarray
    covered_weight: float
    total_weight: float
    uncoverable: np.ndarray
    status: str
    optimal: bool
    mip_gap: float
    objective: float
    solve_s: float

    @property
    def covered_share(self) -> float:
        return self.covered_weight / self.total_weight if self.total_weight > 0 else 0.0


@dataclass(frozen=True)
class Coverage:
    """Coverage of a set of posts: ``covered`` mask per demand point, weights, and ``gaps``:
    the uncovered demand indices, heaviest first."""

    posts: np.ndarray
    covered: np.ndarray
    covered_weight: float
    total_weight: float
    gaps: np.ndarray

    @property
    def covered_share(self) -> float:
        return self.covered_weight / self.total_weight if self.total_weight > 0 else 0.0


def _as_csc(cover) -> sparse.csc_matrix:
    """Demand x candidate boolean coverage as a CSC matrix of ones."""
    m = sparse.csc_matrix(cover, dtype=np.int8) if not sparse.issparse(cover) else cover.tocsc()
    m = (m != 0).astype(np.int8).tocsc()
    m.eliminate_zeros()
    return m


def _check(
    cover: sparse.csc_matrix, weights: np.ndarray | None, existing: Sequence[int] | np.ndarray
):
    n_dem, n_cand = cover.shape
    w = np.ones(n_dem) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    if len(w) != n_dem:
        raise AnalyticsInputError(
            f"{len(w)} bobot untuk {n_dem} titik permintaan / {len(w)} weights for {n_dem} "
            "demand points"
        )
    if not (np.isfinite(w).all() and (w >= 0).all()):
        raise AnalyticsInputError(
            "bobot permintaan harus berhingga dan tidak negatif / demand weights must be finite "
            "and non-negative"
        )
    ex = np.unique(np.asarray(list(existing), dtype=np.int64))
    if len(ex) and (ex.min() < 0 or ex.max() >= n_cand):
        raise AnalyticsInputError(
            f"pos eksisting di luar daftar kandidat (0..{n_cand - 1}) / existing posts must be "
            f"candidate indices 0..{n_cand - 1}"
        )
    return w, ex


def coverage(
    cover, posts: Sequence[int] | np.ndarray, weights: np.ndarray | None = None
) -> Coverage:
    """Which demand the given posts (candidate indices) cover, and the gap list."""
    m = _as_csc(cover)
    w, p = _check(m, weights, posts)
    covered = np.asarray(m[:, p].sum(axis=1)).ravel() > 0 if len(p) else np.zeros(m.shape[0], bool)
    gaps = np.flatnonzero(~covered)
    gaps = gaps[np.argsort(-w[gaps], kind="stable")]
    return Coverage(p, covered, float(w[covered].sum()), float(w.sum()), gaps)


def what_if(
    cover,
    posts: Sequence[int],
    *,
    add: Sequence[int] = (),
    remove: Sequence[int] = (),
    weights: np.ndarray | None = None,
) -> tuple[Coverage, Coverage]:
    """Coverage before and after adding and/or removing posts (a move is remove + add)."""
    before = coverage(cover, posts, weights)
    after_posts = (set(int(p) for p in posts) - set(int(r) for r in remove)) | {int(a) for a in add}
    return before, coverage(cover, sorted(after_posts), weights)


def _merge_rows(sub: sparse.csc_matrix, w: np.ndarray) -> tuple[sparse.csc_matrix, np.ndarray]:
    """Demand points with the same set of covering candidates merged (their weights summed)."""
    csr = sub.tocsr()
    csr.sort_indices()
    keys: dict[bytes, int] = {}
    group = np.empty(csr.shape[0], dtype=np.int64)
    for i in range(csr.shape[0]):
        key = csr.indices[csr.indptr[i] : csr.indptr[i + 1]].tobytes()
        group[i] = keys.setdefault(key, len(keys))
    first = np.unique(group, return_index=True)[1]
    merged_w = np.bincount(group, weights=w, minlength=len(keys))
    return csr[first].tocsc(), merged_w


def _undominated(sub: sparse.csc_matrix) -> np.ndarray:
    """Candidate columns whose covered set is not contained in another's (ties: first kept).

    Dropping a dominated candidate never worsens a covering or maximal-covering solution: the
    dominating candidate covers at least the same demand.
    """
    k = sub.shape[1]
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    a = sub.astype(np.int32)
    inter = (a.T @ a).toarray()
    size = np.diag(inter).copy()
    contained = inter == size[:, None]  # [j, l]: cover(j) within cover(l)
    np.fill_diagonal(contained, False)
    bigger = size[None, :] > size[:, None]
    earlier = np.arange(k)[None, :] < np.arange(k)[:, None]
    dominated = (contained & (bigger | earlier)).any(axis=1) | (size == 0)
    return np.flatnonzero(~dominated)


def _greedy_interchange(sub: sparse.csc_matrix, w: np.ndarray, p: int) -> np.ndarray:
    """A good MCLP starting solution (greedy, then best single swaps until none improves).

    Only handed to the solver as its first incumbent: optimality is still proven by the MIP.
    """
    csr = sub.tocsr()
    chosen: list[int] = []
    count = np.zeros(sub.shape[0], dtype=np.int64)
    for _ in range(p):
        gain = (w * (count == 0)) @ csr
        gain[chosen] = -1.0
        j = int(np.argmax(gain))
        chosen.append(j)
        count += csr[:, j].toarray().ravel()
    best = float(w[count > 0].sum())
    improved = True
    while improved:
        improved = False
        for pos, j in enumerate(list(chosen)):
            without = count - csr[:, j].toarray().ravel()
            gain = (w * (without == 0)) @ csr
            gain[chosen] = -1.0
            other = int(np.argmax(gain))
            value = float(w[without > 0].sum() + gain[other])
            if value > best + 1e-9:
                chosen[pos], best, improved = other, value, True
                count = without + csr[:, other].toarray().ravel()
    return np.asarray(chosen, dtype=np.int64)


def _solve(
    n_cols: int,
    cost: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    integer: np.ndarray,
    a: sparse.csc_matrix,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    maximise: bool,
    time_limit_s: float,
    start: np.ndarray | None = None,
) -> tuple[np.ndarray, str, bool, float, float, float]:
    import highspy

    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_cols, a.shape[0]
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, lower, upper
    lp.row_lower_, lp.row_upper_ = row_lower, row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(np.float64)
    lp.integrality_ = [
        highspy.HighsVarType.kInteger if f else highspy.HighsVarType.kContinuous for f in integer
    ]
    lp.sense_ = highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("threads", 1)
    h.setOptionValue("time_limit", float(time_limit_s))
    # HiGHS's MIP presolve spends minutes on covering matrices with ~1e6 entries for little
    # reduction (the rows and columns are reduced above); the branch-and-cut does the work.
    h.setOptionValue("presolve", "off")
    started = time.perf_counter()
    h.passModel(lp)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = list(map(float, start))
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    solve_s = time.perf_counter() - started
    status = h.getModelStatus()
    info = h.getInfo()
    x = np.asarray(h.getSolution().col_value, dtype=np.float64)
    gap = float(info.mip_gap) if np.isfinite(info.mip_gap) else float("inf")
    optimal = status == highspy.HighsModelStatus.kOptimal
    text = h.modelStatusToString(status)
    if not len(x):
        raise AnalyticsInputError(
            f"pemecah tidak menemukan solusi ({text}) / the solver found no solution ({text})"
        )
    return x, text, optimal, gap, float(info.objective_function_value), solve_s


@dataclass(frozen=True)
class _Reduced:
    """A siting problem reduced to the demand rows still to cover and the useful candidates."""

    reach: np.ndarray  # demand rows some candidate reaches
    free: np.ndarray  # candidates that are not existing posts
    sub: sparse.csc_matrix  # merged uncovered rows x undominated free candidates
    weights: np.ndarray  # weight of each merged row
    keep: np.ndarray  # indices into ``free`` of the undominated candidates


def _reduce(m, w: np.ndarray, ex: np.ndarray, *, weighted_only: bool) -> _Reduced:
    base = coverage(m, ex, w).covered
    reach = np.asarray(m.sum(axis=1)).ravel() > 0
    todo = reach & ~base
    if weighted_only:
        todo &= w > 0
    rows = np.flatnonzero(todo)
    free = np.setdiff1d(np.arange(m.shape[1]), ex)
    sub, wr = _merge_rows(m[rows][:, free].tocsc(), w[rows])
    return _Reduced(reach, free, sub, wr, _undominated(sub))


def _result(problem: str, m, w: np.ndarray, ex: np.ndarray, new: np.ndarray,
            reach: np.ndarray, solved: tuple[str, bool, float, float, float]) -> SitingResult:
    posts = np.union1d(ex, new)
    cov = coverage(m, posts, w)
    return SitingResult(problem, posts, new, cov.covered_weight, cov.total_weight,
                        np.flatnonzero(~reach), *solved)


#: the solver figures of a problem with nothing left to decide
_TRIVIAL = ("Optimal", True, 0.0, 0.0, 0.0)


def lscp(
    cover,
    *,
    existing: Sequence[int] = (),
    weights: np.ndarray | None = None,
    time_limit_s: float = 60.0,
) -> SitingResult:
    """Fewest new posts so that every reachable demand point is covered (LSCP)."""
    m = _as_csc(cover)
    w, ex = _check(m, weights, existing)
    red = _reduce(m, w, ex, weighted_only=False)
    sub, cand = red.sub[:, red.keep].tocsc(), red.free[red.keep]
    if sub.shape[0]:
        k, r = len(cand), sub.shape[0]
        x, *solved = _solve(
            k,
            np.ones(k),
            np.zeros(k),
            np.ones(k),
            np.ones(k, bool),
            sub,
            np.ones(r),
            np.full(r, np.inf),
            False,
            time_limit_s,
        )
        new = cand[x > 0.5]
    else:
        solved, new = _TRIVIAL, red.free[:0]
    return _result("lscp", m, w, ex, new, red.reach, tuple(solved))


def mclp(
    cover,
    p: int,
    *,
    weights: np.ndarray | None = None,
    existing: Sequence[int] = (),
    time_limit_s: float = 60.0,
) -> SitingResult:
    """``p`` new posts maximising the demand weight covered (MCLP), existing posts kept."""
    m = _as_csc(cover)
    w, ex = _check(m, weights, existing)
    free = np.setdiff1d(np.arange(m.shape[1]), ex)
    if not 0 <= int(p) <= len(free):
        raise AnalyticsInputError(
            f"jumlah pos baru harus 0..{len(free)}, diberikan {p} / the number of new posts "
            f"must be 0..{len(free)}, got {p}"
        )
    red = _reduce(m, w, ex, weighted_only=True)
    sub, wr, keep = red.sub, red.weights, red.keep
    if len(keep) < p:  # fewer useful candidates than posts: the rest fill up the count
        keep = np.union1d(keep, np.setdiff1d(np.arange(len(free)), keep)[: p - len(keep)])
    sub, cand = sub[:, keep].tocsc(), free[keep]
    k, r = len(cand), sub.shape[0]
    if r and p:
        # columns: x (k candidates) then y (r demand points); rows: y_i - sum a_ij x_j <= 0,
        # then sum x = p
        a = sparse.vstack(
            [
                sparse.hstack([-sub, sparse.identity(r, format="csc")]),
                sparse.hstack([sparse.csr_matrix(np.ones((1, k))), sparse.csr_matrix((1, r))]),
            ]
        ).tocsc()
        pick = _greedy_interchange(sub, wr, int(p))
        start = np.zeros(k + r)
        start[pick] = 1.0
        start[k:] = np.asarray(sub[:, pick].sum(axis=1)).ravel() > 0
        x, *solved = _solve(
            k + r,
            np.concatenate([np.zeros(k), wr]),
            np.zeros(k + r),
            np.ones(k + r),
            np.concatenate([np.ones(k, bool), np.zeros(r, bool)]),
            a,
            np.concatenate([np.full(r, -np.inf), [p]]),
            np.concatenate([np.zeros(r), [p]]),
            True,
            time_limit_s,
            start,
        )
        new = cand[x[:k] > 0.5]
    else:
        solved = _TRIVIAL
        new = free[: int(p)]  # nothing left to cover: any p candidates are optimal
    return _result("mclp", m, w, ex, new, red.reach, tuple(solved))
