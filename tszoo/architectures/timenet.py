"""TimeNet (Malhotra et al. 2017): a GRU sequence-to-sequence autoencoder whose encoder embeds any series.

Written against ``keras.ops`` and standard Keras layers only, so it builds and trains under TensorFlow and JAX.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from tszoo.layers import INPUT_NAME, SeriesStandardization, StepsLike, reversed_target


def build_timenet(units: int = 60, num_layers: int = 3, dropout: float = 0.4, name: str = "timenet"):
    """Build TimeNet's sequence autoencoder.

    Args:
        units: GRU units per layer (the paper's best: 60).
        num_layers: stacked GRU layers in the encoder and in the decoder (the paper's best: 3).
        dropout: dropout rate on the non-recurrent connections BETWEEN layers (the input of every GRU layer but
            the first of the encoder and of the decoder), as in the paper (0.4). Never on the series itself:
            Keras draws one dropout mask per sequence, so with a single input channel input dropout would zero a
            whole training series or none of it (timenet/1 did that: 38.6% of series dropped whole). The
            recurrent state is never dropped, so information flows across time steps.
        name: name of the autoencoder; the encoder is named ``{name}_encoder``.

    Returns:
        ``(autoencoder, encoder)``. The encoder maps NaN-padded series ``(batch, time, 1)`` to the embedding
        ``(batch, units * num_layers)``: the concatenation of each layer's final state, taken at each series'
        last valid step. The autoencoder maps the same input to the reconstruction ``(batch, time, 1)`` of the
        z-normalised series in REVERSE order; train it with :func:`reconstruction_loss` on ``(series, series)``.
        The decoder has the encoder's structure, starts from the encoder's final states and is given nothing but
        those and the number of steps. It needs no mask: it runs forward, so its outputs at a series' valid steps
        (a prefix) never depend on the padded steps after them, and the loss ignores those.
    """
    if units < 1 or num_layers < 1 or not 0.0 <= dropout < 1.0:
        raise ValueError(f"need units >= 1, num_layers >= 1 and 0 <= dropout < 1; got {units}, {num_layers}, "
                         f"{dropout}")
    series = keras.Input((None, 1), name=INPUT_NAME)
    values, mask = SeriesStandardization(name="standardize")(series)
    x, states = values, []
    for level in range(1, num_layers + 1):
        x, state = layers.GRU(units, return_sequences=True, return_state=True,
                              dropout=dropout if level > 1 else 0.0, name=f"encoder_gru_{level}")(x, mask=mask)
        states.append(state)
    embedding = layers.Concatenate(name="embedding")(states) if num_layers > 1 else states[0]
    encoder = keras.Model(series, embedding, name=f"{name}_encoder")

    series_in = keras.Input((None, 1), name=INPUT_NAME)
    code = encoder(series_in)
    y = StepsLike(name="steps")(series_in)
    for level in range(1, num_layers + 1):
        initial = code[:, (level - 1) * units: level * units]
        y = layers.GRU(units, return_sequences=True, dropout=dropout if level > 1 else 0.0,
                       name=f"decoder_gru_{level}")(y, initial_state=initial)
    reconstruction = layers.Dense(1, name="reconstruction")(y)
    autoencoder = keras.Model(series_in, reconstruction, name=name)
    return autoencoder, encoder


def reconstruction_loss(series, reconstruction):
    """Mean squared error over each series' valid steps, against the series reversed; one value per series.

    ``series`` is the raw NaN-padded input (the model's ``y_true`` is its ``x``): standardisation and reversal
    happen here with the same ops as in the graph. Every series weighs the same whatever its length.
    """
    target, valid = reversed_target(series)
    weight = ops.cast(valid, reconstruction.dtype)
    error = ops.square(reconstruction[..., 0] - target) * weight
    return ops.sum(error, axis=1) / ops.maximum(ops.sum(weight, axis=1), 1.0)
