import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def ragged_batch(rng, lengths, trailing_zeros=0):
    """NaN-padded (n, longest, 1) batch of random series of the given lengths."""
    X = np.full((len(lengths), max(lengths), 1), np.nan, np.float32)
    for i, n in enumerate(lengths):
        X[i, :n, 0] = rng.normal(size=n)
        if trailing_zeros:
            X[i, n - trailing_zeros: n, 0] = 0.0
    return X
