"""The one classification head of the zoo: a body's embedding (one per channel, shared body), dropout, and a
softmax layer named ``probabilities`` (the output name every exported classifier serves)."""

from __future__ import annotations

from tszoo.layers import INPUT_NAME

OUTPUT_NAME = "probabilities"


def classifier(body, num_classes: int, *, n_channels: int = 1, dropout: float = 0.0, seed: int | None = None,
               name: str | None = None):
    """``body`` plus a new softmax head: returns ``(classifier, embedder, head_layer)``.

    A multivariate input ``(batch, time, n_channels)`` runs every channel through the same body and concatenates
    the embeddings. ``seed`` seeds the head's initial weights and its dropout, so a fit can be repeated exactly.
    """
    import keras

    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 2:
        raise ValueError(f"num_classes={num_classes!r}; expected an integer >= 2")
    series = keras.Input((None, n_channels), name=INPUT_NAME)
    if n_channels == 1:
        embedding = body(series)
    else:
        embedding = keras.layers.Concatenate(name="channels")(
            [body(series[..., c: c + 1]) for c in range(n_channels)])
    x = keras.layers.Dropout(dropout, seed=seed, name="head_dropout")(embedding) if dropout else embedding
    head = keras.layers.Dense(num_classes, activation="softmax", name=OUTPUT_NAME,
                              kernel_initializer=keras.initializers.GlorotUniform(seed=seed))
    model = keras.Model(series, head(x), name=name or f"{body.name}_classifier")
    return model, keras.Model(series, embedding, name=f"{body.name}_embedder"), head
