"""Exporting tszoo models: SavedModel for TF Serving (and later TFLite and ONNX).

Every artifact carries its own preprocessing: the model's first layer derives the mask from NaN padding and
z-normalises each series, so a consumer feeds raw NaN-padded float32 ``[batch, time, 1]``.
"""

from __future__ import annotations

from pathlib import Path

INPUT_NAME = "series"


def output_name(model) -> str:
    """``probabilities`` for a classifier (softmax head named so), ``embedding`` for an embedding model."""
    return "probabilities" if any(layer.name == "probabilities" for layer in model.layers) else "embedding"


def write_savedmodel(model, path, output: str | None = None) -> Path:
    """Write ``model`` as a SavedModel that TF Serving loads.

    Signature ``serving_default``: input ``series`` float32 ``[batch, time, 1]`` (NaN-padded), output ``output``
    (default: :func:`output_name`). ``path`` must not exist yet.
    """
    import keras
    import tensorflow as tf

    path = Path(path)
    output = output or output_name(model)
    archive = keras.export.ExportArchive()
    archive.track(model)

    def serve(series):
        return {output: model(series, training=False)}

    archive.add_endpoint(name="serving_default", fn=serve,
                         input_signature=[tf.TensorSpec([None, None, 1], tf.float32, name=INPUT_NAME)])
    archive.write_out(str(path), verbose=False)
    return path
