"""Input validation: the one place that turns what users pass into tszoo's convention.

The convention, used by readers, estimators and models alike:

* a collection of univariate series is a float32 array ``(n, longest)``; a series shorter than the longest is
  padded with NaN at its END;
* a multivariate collection is aeon's ``(n, channels, longest)``, padded the same way;
* a list of 1-D arrays (or of ``(channels, length)`` arrays) of different lengths is accepted everywhere and
  padded here;
* a real 0.0 is data; NaN before a series' last valid value is a MISSING value, not padding. Missing values are
  refused unless the caller asks to fill them (``missing="interpolate"``: linear interpolation inside a series,
  nearest valid value at its start).

Every error says what was wrong and what was expected.
"""

from __future__ import annotations

import numbers

import numpy as np

from tszoo.layers import valid_lengths

MISSING_POLICIES = ("raise", "interpolate")

EXPECTED = (
    "expected a 2-D array (n_series, length), aeon's 3-D (n_series, n_channels, length), or a list of 1-D "
    "arrays, float values, NaN-padded at the end"
)


def _as_float_array(values, what: str) -> np.ndarray:
    """Convert to float32, refusing strings, objects and complex numbers with a TypeError."""
    try:
        arr = np.asarray(values)
    except ValueError as exc:  # ragged nested lists numpy cannot stack
        raise ValueError(f"{what}: could not read as an array ({exc}); {EXPECTED}") from exc
    if arr.dtype == object:
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{what} holds non-numeric values ({exc}); {EXPECTED}") from exc
    if arr.dtype.kind == "b":
        raise TypeError(f"{what} is boolean; {EXPECTED}")
    if arr.dtype.kind == "c":
        raise ValueError(f"{what} is complex: Complex data not supported; {EXPECTED}")
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{what} has dtype {arr.dtype}, which is not a real number type; {EXPECTED}")
    return arr.astype(np.float32)


def _interpolate_row(row: np.ndarray) -> np.ndarray:
    ok = ~np.isnan(row)
    if ok.all():
        return row
    pos = np.arange(row.shape[0])
    return np.interp(pos, pos[ok], row[ok]).astype(np.float32)


def check_series(X, *, missing: str = "raise", name: str = "X", min_length: int = 1) -> np.ndarray:
    """Validate a collection of series and return it NaN-padded at the end.

    Returns float32 ``(n, longest)`` for univariate input (2-D array or list of 1-D arrays) and
    ``(n, channels, longest)`` for multivariate input (3-D array or list of 2-D arrays). Trailing padding beyond
    the longest series is dropped.
    """
    if missing not in MISSING_POLICIES:
        raise ValueError(f"missing={missing!r} is not one of {MISSING_POLICIES}")
    if isinstance(X, (str, bytes)) or isinstance(X, numbers.Number) or X is None:
        raise TypeError(f"{name} is a {type(X).__name__}; {EXPECTED}")
    if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
        raise TypeError(f"{name} is a sparse matrix: sparse input is not supported; {EXPECTED} (dense)")
    if isinstance(X, (list, tuple)):
        X = _pad_list(X, name)
    else:
        X = _as_float_array(X, name)
    if X.ndim not in (2, 3):
        hint = (" Reshape your data: X.reshape(1, -1) if it is one series, X.reshape(-1, 1) if it is many series "
                "of one value each." if X.ndim == 1 else "")
        raise ValueError(f"{name} has {X.ndim} dimension(s) with shape {X.shape}; {EXPECTED}.{hint}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} holds no series (shape {X.shape}); {EXPECTED}")
    if X.ndim == 3 and X.shape[1] == 0:
        raise ValueError(f"{name} has 0 channels (shape {X.shape}); {EXPECTED}")
    if X.shape[-1] == 0:
        raise ValueError(f"{name} has series of length 0: 0 feature(s) (shape={X.shape}) while a minimum of 1 is "
                         "required; every series needs at least one value")
    if np.isinf(X).any():
        where = np.argwhere(np.isinf(X))[0]
        raise ValueError(f"{name} holds an infinite value (first at index {tuple(int(i) for i in where)}); "
                         "only finite values and NaN padding are allowed")
    lengths = valid_lengths(X, time_axis=X.ndim - 1)
    empty = np.flatnonzero(lengths < min_length)
    if empty.size:
        raise ValueError(f"{name}: series {empty[:5].tolist()} {'has' if empty.size == 1 else 'have'} "
                         f"{'no values (all NaN)' if min_length == 1 else f'fewer than {min_length} values'}; "
                         "remove it or give it at least one value")
    X = X[..., : int(lengths.max())]
    # NaN before a series' end is a missing value: padding is only what follows the last valid value.
    steps = np.arange(X.shape[-1])
    inside = steps[None, :] < lengths[:, None]
    if X.ndim == 3:
        inside = inside[:, None, :]
    holes = np.isnan(X) & inside
    if holes.any():
        if missing == "raise":
            first = np.argwhere(holes)[0]
            n_bad = int(holes.reshape(X.shape[0], -1).any(axis=1).sum())
            raise ValueError(
                f"{name} has missing values (NaN before a series' last value) in {n_bad} series, first at index "
                f"{tuple(int(i) for i in first)}. NaN is only allowed as padding at the end; pass "
                "missing='interpolate' to fill missing values by linear interpolation")
        X = X.copy()
        rows = X.reshape(-1, X.shape[-1])
        row_len = np.repeat(lengths, X.shape[1]) if X.ndim == 3 else lengths
        for i in np.flatnonzero(np.isnan(rows).any(axis=1)):
            n = row_len[i]
            rows[i, :n] = _interpolate_row(rows[i, :n])
    return X


def _pad_list(items, name: str) -> np.ndarray:
    if len(items) == 0:
        raise ValueError(f"{name} is an empty list; {EXPECTED}")
    arrays = [_as_float_array(item, f"{name}[{i}]") for i, item in enumerate(items)]
    ndims = {a.ndim for a in arrays}
    if ndims == {0} or ndims - {1, 2}:
        raise ValueError(f"{name} is a list of arrays with {sorted(ndims)} dimensions; {EXPECTED}")
    if len(ndims) > 1:
        raise ValueError(f"{name} mixes 1-D and 2-D series; give every series the same number of dimensions")
    if ndims == {1}:
        longest = max(a.shape[0] for a in arrays)
        out = np.full((len(arrays), longest), np.nan, np.float32)
        for i, a in enumerate(arrays):
            out[i, : a.shape[0]] = a
        return out
    channels = {a.shape[0] for a in arrays}
    if len(channels) > 1:
        raise ValueError(f"{name}: series have different numbers of channels {sorted(channels)}; "
                         "every series needs the same channels, each as an array (n_channels, length)")
    longest = max(a.shape[1] for a in arrays)
    out = np.full((len(arrays), channels.pop(), longest), np.nan, np.float32)
    for i, a in enumerate(arrays):
        out[i, :, : a.shape[1]] = a
    return out


def check_univariate(X, *, missing: str = "raise", name: str = "X") -> np.ndarray:
    """Like :func:`check_series`, but a 3-D input must have exactly one channel; returns ``(n, longest)``."""
    X = check_series(X, missing=missing, name=name)
    if X.ndim == 3:
        if X.shape[1] != 1:
            raise ValueError(f"{name} has {X.shape[1]} channels (shape {X.shape}) where one is expected; "
                             "give a univariate collection (n_series, length) or (n_series, 1, length)")
        X = X[:, 0, :]
    return X


def to_model_input(X, *, missing: str = "raise", name: str = "X") -> np.ndarray:
    """Validate univariate series and shape them as the models take them: float32 ``(n, time, 1)``."""
    return check_univariate(X, missing=missing, name=name)[..., None]


def to_model_input(X, *, missing: str = "raise", name: str = "X") -> np.ndarray:
    """Validate univariate series and shape them as the models take them: float32 ``(n, time, 1)``."""
    return check_univariate(X, missing=missing, name=name)[..., None]


def check_labels(y, n: int, name: str = "y") -> np.ndarray:
    """Validate class labels: one per series, 1-D (a column vector is flattened with a warning), no missing
    labels, and class labels rather than a continuous target."""
    import warnings

    from sklearn.exceptions import DataConversionWarning
    from sklearn.utils.multiclass import type_of_target

    if y is None:
        raise ValueError(f"this classifier requires y to be passed, but the target {name} is None; give one class "
                         "label per series")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(f"A column-vector y was passed when a 1d array was expected: {name} {y.shape} is flattened "
                      "to one label per series", DataConversionWarning, stacklevel=3)
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"{name} has shape {y.shape}; expected a 1-D array with one label per series")
    if y.shape[0] != n:
        raise ValueError(f"{name} has {y.shape[0]} labels for {n} series; expected one label per series")
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise ValueError(f"{name} holds NaN labels; every series needs a class label")
    if y.dtype == object and any(v is None for v in y):
        raise ValueError(f"{name} holds None labels; every series needs a class label")
    kind = type_of_target(y)
    if kind in ("continuous", "continuous-multioutput"):
        raise ValueError(f"Unknown label type: {kind}. {name} looks like a regression target (non-integer numbers); "
                         "a classifier needs class labels (integers or strings)")
    return y
