"""TimeNet (Malhotra et al. 2017): a GRU sequence-to-sequence autoencoder whose encoder embeds any series.

Written against ``keras.ops`` and standard Keras layers only, so it builds and trains under TensorFlow and JAX.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from tszoo.layers import (INPUT_NAME, FirstDifference, MaskedGlobalAveragePooling, MaskedGlobalMaxPooling,
                          SeriesStandardization, StepsLike, reversed_target)

POOLINGS = ("last", "mean", "last+mean", "last+mean+max")
INPUTS = ("series", "series+diff")


def pooling_parts(pooling: str) -> list[str]:
    """The summaries a pooling gives, in their order in the features: ``"last+mean+max"`` -> ``["last", "mean",
    "max"]``."""
    if pooling not in POOLINGS:
        raise ValueError(f"pooling={pooling!r}; expected one of {POOLINGS}")
    return pooling.split("+")


def input_parts(inputs: str) -> list[str]:
    """The inputs the encoder is run on, in their order in the features: ``"series+diff"`` -> ``["series",
    "diff"]``."""
    if inputs not in INPUTS:
        raise ValueError(f"inputs={inputs!r}; expected one of {INPUTS}")
    return inputs.split("+")


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


def timenet_features(encoder, pooling: str = "last", inputs: str = "series"):
    """A model that turns series into TimeNet features, built from a (published) encoder's own layers.

    Args:
        encoder: a TimeNet encoder (what ``tszoo.load("timenet")`` gives): layers ``standardize`` and
            ``encoder_gru_1``.. ``encoder_gru_L``.
        pooling: what each GRU layer contributes, summary after summary, each of them layer after layer:
            ``"last"``: its state at the series' last valid step (the paper's embedding; with ``inputs="series"``
            the encoder itself is returned); ``"mean"``: its outputs averaged over the series' valid steps;
            ``"last+mean"``: the final states of all layers, then the means of all layers (twice the paper's
            width); ``"last+mean+max"``: then the maxima over the valid steps too (three times).
        inputs: ``"series"`` the series; ``"series+diff"`` the same features of the series, then of its first
            difference (:class:`tszoo.layers.FirstDifference`, standardised by the encoder as any input), as
            MultiRocket adds the first difference to MiniRocket's input: twice the width.

    The time means see the whole series, where the final state of a GRU keeps mostly its end: on long series
    (Cricket, 300 steps) TN-C on the final states alone loses most of what tells the classes apart.
    """
    parts_of = pooling_parts(pooling)
    sources = input_parts(inputs)
    if pooling == "last" and sources == ["series"]:
        return encoder
    names = [layer.name for layer in encoder.layers]
    grus = sorted((n for n in names if n.startswith("encoder_gru_")), key=lambda n: int(n.rsplit("_", 1)[1]))
    if "standardize" not in names or not grus:
        raise ValueError(f"pooling={pooling!r}, inputs={inputs!r} needs a TimeNet encoder (layers 'standardize' "
                         f"and 'encoder_gru_1'..); {encoder.name!r} has {names}")
    series = keras.Input((None, 1), name=INPUT_NAME)
    parts = []
    for source in sources:
        given = series if source == "series" else FirstDifference(name="first_difference")(series)
        tag = "" if source == "series" else "_diff"
        x, mask = encoder.get_layer("standardize")(given)
        summaries = {"last": [], "mean": [], "max": []}
        for level, name in enumerate(grus, start=1):
            x, state = encoder.get_layer(name)(x, mask=mask)
            summaries["last"].append(state)
            if "mean" in parts_of:
                summaries["mean"].append(MaskedGlobalAveragePooling(name=f"mean_{level}{tag}")(x, mask))
            if "max" in parts_of:
                summaries["max"].append(MaskedGlobalMaxPooling(name=f"max_{level}{tag}")(x, mask))
        parts += [p for kind in parts_of for p in summaries[kind]]
    features = layers.Concatenate(name="features")(parts) if len(parts) > 1 else parts[0]
    suffix = pooling.replace("+", "_") + ("" if sources == ["series"] else "_diff")
    return keras.Model(series, features, name=f"{encoder.name}_{suffix}")


def reconstruction_loss(series, reconstruction):
    """Mean squared error over each series' valid steps, against the series reversed; one value per series.

    ``series`` is the raw NaN-padded input (the model's ``y_true`` is its ``x``): standardisation and reversal
    happen here with the same ops as in the graph. Every series weighs the same whatever its length.
    """
    target, valid = reversed_target(series)
    weight = ops.cast(valid, reconstruction.dtype)
    error = ops.square(reconstruction[..., 0] - target) * weight
    return ops.sum(error, axis=1) / ops.maximum(ops.sum(weight, axis=1), 1.0)
