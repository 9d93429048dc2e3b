"""Running tszoo's models on collections of series: batched by length, traced once, models read once.

Used by the estimators, the command line, the plots and the benchmarks.
"""

from __future__ import annotations

import weakref

import numpy as np

from tszoo.layers import valid_lengths
from tszoo.validation import check_series

_MODEL_CACHE: dict = {}
_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def as_3d(X, missing="raise") -> np.ndarray:
    """Validated input as ``(n, channels, longest)``."""
    X = check_series(X, missing=missing)
    return X[:, None, :] if X.ndim == 2 else X


def compiled(model):
    """``model(x, training=False)`` traced once for any batch and length (TensorFlow), else eager."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return lambda x: np.asarray(model(x, training=False))
    import tensorflow as tf

    fn = _COMPILED.get(model)
    if fn is None:
        # The traced function holds the model weakly, so a fitted-and-dropped model (a grid search fits many)
        # is freed together with its entry here.
        ref = weakref.ref(model)
        fn = tf.function(lambda x: ref()(x, training=False), reduce_retracing=True,
                         input_signature=[tf.TensorSpec([None, None, model.input.shape[-1]], tf.float32)])
        _COMPILED[model] = fn
    return lambda x: fn(x).numpy()


def predict_batched(model, X3: np.ndarray, batch_size: int = 256, progress: bool = False) -> np.ndarray:
    """Run ``model`` on ``(n, time, channels)`` in batches of similar length, each padded only to its own
    longest series, so memory stays bounded and padding costs little. Returns outputs in input order."""
    if X3.shape[0] == 0:
        raise ValueError("no series to run the model on")
    call = compiled(model)
    lengths = valid_lengths(X3)
    order = np.argsort(lengths, kind="stable")
    outputs = None
    starts = range(0, len(order), batch_size)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="embedding", unit="batch", leave=False)
    for start in starts:
        idx = order[start: start + batch_size]
        out = call(np.ascontiguousarray(X3[idx, : lengths[idx].max()], dtype=np.float32))
        if outputs is None:
            outputs = np.empty((X3.shape[0], *out.shape[1:]), np.float32)
        outputs[idx] = out
    return outputs


def load_cached(name, version=None):
    """Published models are read once per process (they are never changed after loading)."""
    from tszoo.registry import load

    key = (str(name), version)
    if key not in _MODEL_CACHE:
        _MODEL_CACHE[key] = load(name, version)
    return _MODEL_CACHE[key]


def embed(model, X, batch_size: int = 256, missing: str = "raise", progress: bool = False) -> np.ndarray:
    """Embeddings of a collection of series with an embedding model (channels embedded one by one and
    concatenated)."""
    X = as_3d(X, missing)
    parts = []
    for c in range(X.shape[1]):
        channel = X[:, c, :]
        channel = channel[:, : valid_lengths(channel).max()]
        parts.append(predict_batched(model, channel[..., None], batch_size, progress))
    return np.concatenate(parts, axis=1)


def embed_stream(model, chunks, batch_size: int = 256, missing: str = "raise"):
    """Embed a collection too large for memory: ``chunks`` yields collections of series (any input form); this
    yields their embeddings chunk by chunk, so memory stays bounded by one chunk whatever the collection's size."""
    for chunk in chunks:
        yield embed(model, chunk, batch_size, missing)
