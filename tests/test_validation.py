import numpy as np
import pytest

from tszoo.validation import check_labels, check_series, check_univariate, to_model_input


def test_list_of_different_lengths_is_nan_padded_at_the_end():
    X = check_series([np.arange(3.0), np.arange(5.0)])
    assert X.shape == (2, 5) and X.dtype == np.float32
    assert np.isnan(X[0, 3:]).all() and not np.isnan(X[1]).any()


def test_trailing_real_zeros_are_data():
    X = check_series(np.array([[1.0, 2.0, 0.0, 0.0], [1.0, 2.0, 3.0, 4.0]]))
    assert X.shape == (2, 4) and not np.isnan(X).any()


def test_common_trailing_padding_is_dropped():
    X = check_series(np.array([[1.0, 2.0, np.nan, np.nan], [1.0, np.nan, np.nan, np.nan]]))
    assert X.shape == (2, 2)


@pytest.mark.parametrize("row", [[np.nan, 1.0, 2.0], [1.0, np.nan, 2.0]])
def test_missing_values_are_refused_by_default(row):
    with pytest.raises(ValueError, match="missing values"):
        check_series(np.array([row, [1.0, 2.0, 3.0]]))


def test_missing_values_can_be_interpolated():
    X = check_series(np.array([[np.nan, 1.0, np.nan, 3.0, np.nan]]), missing="interpolate")
    np.testing.assert_allclose(X[0, :4], [1.0, 1.0, 2.0, 3.0])
    assert np.isnan(X).sum() == 0 and X.shape == (1, 4)  # the trailing NaN was padding and is dropped


def test_aeon_3d_multivariate_passes_and_univariate_check_refuses_it():
    X = np.random.default_rng(0).normal(size=(4, 3, 20))
    assert check_series(X).shape == (4, 3, 20)
    with pytest.raises(ValueError, match="3 channels"):
        check_univariate(X)
    assert to_model_input(X[:, :1]).shape == (4, 20, 1)


@pytest.mark.parametrize("bad, exc, message", [
    (np.zeros(5), ValueError, "1 dimension"),
    (np.zeros((2, 3, 4, 5)), ValueError, "4 dimension"),
    (np.zeros((0, 5)), ValueError, "no series"),
    (np.zeros((3, 0)), ValueError, "length 0"),
    (np.array([[1.0, np.nan], [np.nan, np.nan]]), ValueError, r"no values \(all NaN\)"),
    (np.array([[1.0, np.inf]]), ValueError, "infinite"),
    (np.array([["a", "b"]]), TypeError, "not a real number type"),
    (np.array([[1, "x"]], dtype=object), TypeError, "non-numeric"),
    ([], ValueError, "empty list"),
    ("GunPoint", TypeError, "is a str"),
    (np.array([[True, False]]), TypeError, "boolean"),
    ([np.zeros(3), np.zeros((1, 3))], ValueError, "mixes"),
])
def test_bad_input_says_what_was_wrong(bad, exc, message):
    with pytest.raises(exc, match=message):
        check_series(bad)


def test_labels_must_match_series():
    with pytest.raises(ValueError, match="3 labels for 2 series"):
        check_labels([1, 2, 3], 2)
    with pytest.raises(ValueError, match="NaN labels"):
        check_labels([1.0, np.nan], 2)
    assert check_labels(np.array([-1, 1]), 2).tolist() == [-1, 1]
