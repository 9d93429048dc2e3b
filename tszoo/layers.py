"""Custom Keras layers that tszoo's models need to run and to deserialize.

Written against ``keras.ops`` only, so the same graphs build and train under any Keras backend.

The input convention: float32 ``(batch, time, 1)``, a shorter series padded with NaN at its end. The mask comes
from the NaNs, never from zeros: a real 0.0 is data.
"""

from __future__ import annotations

import keras
from keras import ops

PACKAGE = "tszoo"
JAX_LENGTH_MULTIPLE = 32  # under JAX, batches are NaN-padded to a multiple of this many steps: few shapes compile
INPUT_NAME = "series"  # every model's input, and the input of every exported artifact


def valid_lengths(X, time_axis: int = 1):
    """Each series' length in a NaN-padded NumPy array: the steps up to its last non-NaN value (0: all NaN).

    ``X`` is ``(n, time)`` or ``(n, time, channels)`` (``time_axis=1``) or ``(n, channels, time)``
    (``time_axis=2``); a step counts when any channel holds a value there.
    """
    import numpy as np

    present = ~np.isnan(np.asarray(X))
    if present.ndim == 3:
        present = present.any(axis=3 - time_axis)
    return np.where(present.any(axis=1), present.shape[1] - np.argmax(present[:, ::-1], axis=1), 0)


def pad_time(x, multiple: int = JAX_LENGTH_MULTIPLE):
    """NaN-pad a float ``(batch, time, channels)`` NumPy array at its end to a multiple of ``multiple`` steps (the
    models ignore NaN padding); anything else is returned as it is."""
    import numpy as np

    if isinstance(x, np.ndarray) and x.ndim == 3 and x.dtype.kind == "f":
        extra = -x.shape[1] % multiple
        if extra:
            return np.concatenate([x, np.full((x.shape[0], extra, x.shape[2]), np.nan, x.dtype)], axis=1)
    return x


def standardize_series(series, epsilon: float = 1e-6):
    """Z-normalise each series over its valid (non-NaN) points.

    Returns ``(values, mask)``: values ``(batch, time, channels)`` with zeros at padded steps, and a boolean mask
    ``(batch, time)``, true where a step holds data. A constant series becomes all zeros.
    """
    missing = ops.isnan(series)
    present = ops.logical_not(missing)
    weight = ops.cast(present, series.dtype)
    # where(isnan(x), 0, x) with IsNaN itself as the condition: converters such as tf2onnx then keep a real
    # select; given any other condition they may rewrite it as mask * x, and NaN * 0 is NaN.
    x = ops.where(missing, ops.zeros_like(series), series)
    count = ops.maximum(ops.sum(weight, axis=1, keepdims=True), 1.0)
    mean = ops.sum(x, axis=1, keepdims=True) / count
    centred = (x - mean) * weight
    std = ops.sqrt(ops.sum(ops.square(centred), axis=1, keepdims=True) / count)
    std = ops.where(std < epsilon, ops.ones_like(std), std)
    values = centred / std
    mask = ops.any(present, axis=-1)
    return values, mask


def reversed_target(series, epsilon: float = 1e-6):
    """TimeNet's reconstruction target: each standardised series in REVERSE order of its valid steps.

    Step ``s`` of the target holds ``z[T_i - 1 - s]`` for a series of length ``T_i``; steps ``s >= T_i`` are
    padding. Returns ``(target (batch, time), mask (batch, time))``; the mask is a prefix of length ``T_i``.
    """
    values, mask = standardize_series(series, epsilon)
    lengths = ops.sum(ops.cast(mask, "int32"), axis=1, keepdims=True)
    steps = ops.expand_dims(ops.arange(ops.shape(values)[1], dtype="int32"), 0)
    index = lengths - 1 - steps
    valid = index >= 0
    target = ops.take_along_axis(values[..., 0], ops.maximum(index, 0), axis=1)
    return ops.where(valid, target, ops.zeros_like(target)), valid


@keras.saving.register_keras_serializable(package=PACKAGE)
class SeriesStandardization(keras.layers.Layer):
    """NaN-padded series -> (z-normalised values with zeros at padding, boolean mask of valid steps).

    Put first in every tszoo model, so that every exported artifact carries its own preprocessing.
    """

    def __init__(self, epsilon: float = 1e-6, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def call(self, series):
        return standardize_series(series, self.epsilon)

    def compute_output_spec(self, series):
        shape = series.shape
        return (keras.KerasTensor(shape, dtype=series.dtype), keras.KerasTensor(shape[:2], dtype="bool"))

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package=PACKAGE)
class ZeroPadding(keras.layers.Layer):
    """Set padded steps to zero: ``x * mask``.

    After every convolution this makes a padded batch look, to each series, exactly like the zero 'same'
    padding it sees alone, so outputs do not depend on what else is in the batch.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True  # it consumes the mask it is given; nothing downstream needs one

    def compute_mask(self, x, mask=None):
        return None

    def call(self, x, mask):
        return x * ops.cast(ops.expand_dims(mask, -1), x.dtype)

    def compute_output_spec(self, x, mask):
        return keras.KerasTensor(x.shape, dtype=x.dtype)


class _MaskedGlobalPooling(keras.layers.Layer):
    """A summary over the valid steps of ``(batch, time, features)`` given the ``(batch, time)`` mask:
    ``(batch, features)``; subclasses say which."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_mask(self, x, mask=None):
        return None

    def compute_output_spec(self, x, mask):
        return keras.KerasTensor((x.shape[0], x.shape[-1]), dtype=x.dtype)


@keras.saving.register_keras_serializable(package=PACKAGE)
class MaskedGlobalAveragePooling(_MaskedGlobalPooling):
    """Mean over valid steps only: ``sum(x * mask) / sum(mask)``."""

    def call(self, x, mask):
        weight = ops.cast(ops.expand_dims(mask, -1), x.dtype)
        return ops.sum(x * weight, axis=1) / ops.maximum(ops.sum(weight, axis=1), 1.0)


@keras.saving.register_keras_serializable(package=PACKAGE)
class MaskedGlobalMaxPooling(_MaskedGlobalPooling):
    """Maximum over valid steps only (0 for a series without any)."""

    def call(self, x, mask):
        valid = ops.expand_dims(mask, -1)
        lowest = ops.full_like(x, -3.0e38)  # a finite stand-in for -inf: converters keep it as it is
        top = ops.max(ops.where(valid, x, lowest), axis=1)
        return ops.where(ops.any(valid, axis=1), top, ops.zeros_like(top))


@keras.saving.register_keras_serializable(package=PACKAGE)
class FirstDifference(keras.layers.Layer):
    """NaN-padded series -> their first differences ``x[t + 1] - x[t]`` over the valid steps, NaN-padded at the end:
    a series of ``T`` valid steps gives ``T - 1`` (the step into the padding is NaN - x = NaN), and the time axis
    keeps its length."""

    def call(self, series):
        step = series[:, 1:] - series[:, :-1]
        return ops.concatenate([step, ops.full_like(series[:, :1], float("nan"))], axis=1)

    def compute_output_spec(self, series):
        return keras.KerasTensor(series.shape, dtype=series.dtype)


@keras.saving.register_keras_serializable(package=PACKAGE)
class StepsLike(keras.layers.Layer):
    """A zero input with one feature per step: all TimeNet's decoder is given besides the embedding.

    It tells the decoder how many steps to run, nothing about the series' values.
    """

    def call(self, x):
        return ops.zeros_like(x[..., :1])

    def compute_output_spec(self, x):
        return keras.KerasTensor((*x.shape[:-1], 1), dtype=x.dtype)


CUSTOM_OBJECTS = {
    "SeriesStandardization": SeriesStandardization,
    "ZeroPadding": ZeroPadding,
    "MaskedGlobalAveragePooling": MaskedGlobalAveragePooling,
    "MaskedGlobalMaxPooling": MaskedGlobalMaxPooling,
    "FirstDifference": FirstDifference,
    "StepsLike": StepsLike,
}
