"""1-nearest-neighbour under DTW (full warping window) for many draws of training series at once, exactly as aeon.

The few-labels benchmark's DTW arm asks, for each test series and each of 20 draws (k = 1, 2, 5, 10 per class,
5 draws), which drawn series is nearest. Computing every distance from the test split to every series some draw
takes (aeon's ``dtw_pairwise_distance``) costs most on the three UWaveGestureLibrary datasets (3,582 test series
of 315 points against hundreds of drawn series): 2,029 of the arm's 3,575 fit-seconds on the 2-core AMD EPYC.

:func:`nearest` gives the same answers with less work, by early abandoning: a DTW cost matrix's costs never
decrease along a warping path (each step adds a squared difference, >= 0, and rounding is monotone), so once
every cell of a row costs more than the best distance found so far, the pair cannot be the nearest nor tie with
it, and its computation stops there. Candidates are tried in order of their Euclidean distance to the test series
(a cheap guess at the nearest), and a pair's exact distance, or the cost at which it was abandoned (a lower bound),
is kept for the test series' other draws. The recurrence is aeon 1.6's own (``_dtw_distance_sakoe_equal``, the
same expression under the same ``fastmath`` flags), so the distances that are completed are aeon's, bit for bit
(tested), and a tie goes, as in aeon's ``KNeighborsTimeSeriesClassifier`` and the benchmark's ``argmin``, to the
first drawn series in the draw's order.

Univariate series of one length only (the 41 targets); anything else: :func:`nearest` refuses it and the caller
uses aeon's distances.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

DBL_MAX = float(np.finfo(np.float64).max)


@njit(cache=True, fastmath=True)
def _dtw_abandoning(x, y, prev, curr, best):
    """aeon's full-window DTW of two equal-length univariate series, stopped as soon as a whole row costs more
    than ``best``. Returns ``(cost, complete)``: the distance when complete, else a lower bound above ``best``."""
    n = x.shape[0]
    for j in range(n + 1):
        prev[j] = np.inf
    prev[0] = 0.0
    for i in range(n):
        curr[0] = np.inf
        xi = x[i]
        low = DBL_MAX  # finite: under fastmath, comparisons may assume no infinities (best is finite too)
        for j in range(n):
            difference = xi - y[j]
            curr[j + 1] = difference * difference + min(prev[j], prev[j + 1], curr[j])
            if curr[j + 1] < low:
                low = curr[j + 1]
        prev, curr = curr, prev
        if low > best:
            return low, False
    return prev[n], True


@njit(cache=True, parallel=True)
def _nearest(test, train, union, starts, members):  # no fastmath here: its logic compares and tests flags
    """For each test series and each draw (``members[starts[d]:starts[d + 1]]``: positions in ``union``), the
    position within the draw of its nearest member (the first on a tie); -1 never remains."""
    n_test, n = test.shape
    n_draws = starts.shape[0] - 1
    out = np.full((n_draws, n_test), -1, dtype=np.int64)
    for t in prange(n_test):
        x = test[t]
        prev = np.empty(n + 1)
        curr = np.empty(n + 1)
        m = union.shape[0]
        done = np.zeros(m, dtype=np.bool_)  # whether exact[u] holds the completed distance
        exact = np.zeros(m)
        bound = np.zeros(m)  # lower bounds of abandoned ones
        euclid = np.empty(m)
        for u in range(m):
            s = 0.0
            y = train[union[u]]
            for i in range(n):
                d = x[i] - y[i]
                s += d * d
            euclid[u] = s
        for d in range(n_draws):
            draw = members[starts[d]:starts[d + 1]]
            order = np.argsort(euclid[draw], kind="mergesort")
            best = DBL_MAX
            for q in range(draw.shape[0]):  # exact distances already known set the first bound
                u = draw[q]
                if done[u] and exact[u] < best:
                    best = exact[u]
            for q in order:
                u = draw[q]
                if done[u] or bound[u] > best:
                    continue
                cost, complete = _dtw_abandoning(x, train[union[u]], prev, curr, best)
                if complete:
                    done[u] = True
                    exact[u] = cost
                    if cost < best:
                        best = cost
                elif cost > bound[u]:
                    bound[u] = cost
            for q in range(draw.shape[0]):  # every member at the best distance was completed: the first wins
                if done[draw[q]] and exact[draw[q]] == best:
                    out[d, t] = q
                    break
    return out


def nearest(test: np.ndarray, train: np.ndarray, draws: list[np.ndarray], n_jobs: int = 1) -> np.ndarray:
    """``(len(draws), len(test))``: for each draw (indices into ``train``, in the draw's order) and each test
    series, the position within the draw of its nearest series under full-window DTW (aeon's distance; the first on
    a tie). ``test`` and ``train`` are 2-D arrays ``(series, time)`` of one length, without NaN."""
    import numba

    test, train = np.ascontiguousarray(test, dtype=np.float64), np.ascontiguousarray(train, dtype=np.float64)
    if test.ndim != 2 or train.ndim != 2 or test.shape[1] != train.shape[1]:
        raise ValueError(f"nearest() takes univariate series of one length as 2-D arrays (series, time); got test "
                         f"{test.shape} and train {train.shape}")
    if np.isnan(test).any() or np.isnan(train).any():
        raise ValueError("nearest() takes series without NaN (no padding, no missing values)")
    if not draws or any(len(d) == 0 for d in draws):
        raise ValueError("every draw needs at least one training series")
    union, positions = np.unique(np.concatenate(draws), return_inverse=True)
    starts = np.concatenate([[0], np.cumsum([len(d) for d in draws])]).astype(np.int64)
    threads = numba.get_num_threads()
    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS if n_jobs < 1 else n_jobs)))
    try:
        return _nearest(test, train, union.astype(np.int64), starts, positions.astype(np.int64))
    finally:
        numba.set_num_threads(threads)
