"""What pretraining (``builders.training``) and fine-tuning (``ConvTimeNetClassifier``) share to survive a kill:
a checkpoint that holds everything a resumed run needs, and files replaced atomically."""

from __future__ import annotations

import os
from pathlib import Path


def training_checkpoint(model, optimizer, **extra):
    """A ``tf.train.Checkpoint`` of the model, the optimizer and the model's random state, plus ``extra``.

    Dropout's random state lives in Keras SeedGenerator variables, which are in ``model.variables`` but not in what
    a checkpoint tracks through the model: saved explicitly, a resumed run draws the same masks.
    """
    import tensorflow as tf

    weights = {id(v) for v in model.weights}
    seed_states = [v for v in model.variables if id(v) not in weights]
    return tf.train.Checkpoint(model=model, optimizer=optimizer, seed_states=seed_states, **extra)


def replace_atomically(path, write) -> None:
    """``write(temporary_path)``, then rename it onto ``path``: a kill mid-write leaves the previous file intact.

    The temporary file is ``partial-<name>`` beside ``path``, so it keeps the suffix that writers such as
    ``save_weights`` (``.weights.h5``) and ``np.savez`` (``.npz``) check.
    """
    path = Path(path)
    partial = path.with_name(f"partial-{path.name}")
    write(partial)
    os.replace(partial, path)
