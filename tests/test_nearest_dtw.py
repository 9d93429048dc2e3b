"""benchmarks.nearest_dtw: the few-labels DTW arm's nearest neighbours, the same as aeon's, ties included."""

import types

import numpy as np
import pytest
from aeon.distances import dtw_distance, dtw_pairwise_distance

from benchmarks import nearest_dtw
from tszoo.datasets import load_ucr


def _data():
    X, y = load_ucr("GunPoint", "train")
    Xt, _ = load_ucr("GunPoint", "test")
    # a training series and its exact copy: the same distance from every test series (a tie each time)
    train = np.concatenate([X, X[[3, 17]]]).astype(np.float64)
    # and a test series that is training series 3 itself: every row of their cost matrix has a cell of cost 0
    return np.concatenate([Xt[:40], X[[3]]]).astype(np.float64), train


def test_nearest_is_aeons_argmin_on_every_draw_ties_included():
    test, train = _data()
    rng = np.random.default_rng(0)
    n = len(train)
    # first a copy alone, then its original before it: the copy's distance, known, is the bound the original
    # must not be abandoned at (a tie is not 'worse'), or the second draw would answer the copy
    draws = [np.array([n - 2, 9]), np.array([3, n - 2])]
    draws += [rng.choice(n - 2, size, replace=False) for size in (1, 2, 5, 10, 30)]
    draws += [np.array([n - 2, 3, 9]), np.array([3, 40, n - 2, 17, n - 1]), np.array([n - 1, 5, 17])]  # copies
    union = np.unique(np.concatenate(draws))
    full = dtw_pairwise_distance(test[:, None, :], train[union][:, None, :])
    found = nearest_dtw.nearest(test, train, draws)
    assert found.shape == (len(draws), len(test))
    for d, members in enumerate(draws):
        expected = np.argmin(full[:, np.searchsorted(union, members)], axis=1)  # the first on a tie
        assert list(found[d]) == list(expected)
    # the ties are real: series n-2 is series 3, at the same distance from every test series
    assert (found[-3] == 0).any() and not (found[-3] == 1).any()  # draw [n-2, 3, 9]: n-2 comes first, never 3
    # on two threads, the same answers
    assert (nearest_dtw.nearest(test, train, draws, n_jobs=2) == found).all()


def test_a_completed_distance_is_aeons_bit_for_bit_and_an_abandoned_one_a_lower_bound():
    test, train = _data()
    n = test.shape[1]
    prev, curr = np.empty(n + 1), np.empty(n + 1)
    for i, j in ((0, 0), (1, 7), (5, 30), (39, 49)):
        exact = dtw_distance(test[i][None, :], train[j][None, :])
        cost, complete = nearest_dtw._dtw_abandoning(test[i], train[j], prev, curr, nearest_dtw.DBL_MAX)
        assert complete and cost == exact
        # told that something nearer exists, it stops early with a bound that is above that and below the truth
        cost, complete = nearest_dtw._dtw_abandoning(test[i], train[j], prev, curr, exact / 4)
        assert not complete and exact / 4 < cost <= exact


def test_inputs_it_cannot_take_are_refused_and_the_benchmark_uses_aeons_distances_instead():
    test, train = _data()
    with pytest.raises(ValueError, match="one length"):
        nearest_dtw.nearest(test[:, :100], train, [np.array([0])])
    padded = train.copy()
    padded[2, 140:] = np.nan
    with pytest.raises(ValueError, match="without NaN"):
        nearest_dtw.nearest(test, padded, [np.array([0, 2])])
    with pytest.raises(ValueError, match="at least one"):
        nearest_dtw.nearest(test, train, [np.array([], dtype=int)])

    from aeon.classification.distance_based import KNeighborsTimeSeriesClassifier

    from benchmarks import few_labels

    _, y = load_ucr("GunPoint", "train")
    y = np.concatenate([y, y[[3, 17]]])
    padded = train.copy()
    padded[few_labels.draw(y, 1, "GunPoint", 0)[0], 120:] = np.nan  # a series that a draw takes
    data = few_labels.Dataset.__new__(few_labels.Dataset)  # a dataset with one NaN-padded training series
    data.name, data.X, data.y, data._cache = "GunPoint", padded.astype(np.float32), y, {"test": (test, None)}
    data.args = types.SimpleNamespace(ks="1,2", draws=2, score_on="test")
    found = data.dtw_nearest(1)
    for k in (1, 2):
        for index in range(2):
            taken = few_labels.draw(y, k, "GunPoint", index)
            series = [row[~np.isnan(row)][None, :] for row in padded[taken]]
            knn = KNeighborsTimeSeriesClassifier(n_neighbors=1, distance="dtw").fit(series, y[taken])
            assert list(y[taken][found[(k, index)]]) == list(knn.predict(test[:, None, :]))
