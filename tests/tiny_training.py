"""Train a tiny TimeNet or multi-head ConvTimeNet for a few epochs on fixed data; print the loss trajectory (JSON).

Run in a subprocess by the tests, because a process has one Keras backend and at most one multi-worker strategy:

    KERAS_BACKEND=jax python tests/tiny_training.py MODEL OUT [--init W.weights.h5] [--save W.weights.h5]
    TF_CONFIG=... python tests/tiny_training.py MODEL OUT        # one worker of a MultiWorkerMirroredStrategy

MODEL is ``timenet`` or ``convtimenet``. ``--save`` writes the initial weights (so another backend can start from
the same ones), ``--init`` loads them. Dropout is off, so the trajectories of two backends can be compared.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from a checkout


def data(model_name):
    import numpy as np

    rng = np.random.default_rng(0)
    lengths = rng.integers(20, 33, 32)
    x = np.full((32, 32, 1), np.nan, np.float32)
    for i, n in enumerate(lengths):
        x[i, :n, 0] = np.sin(np.linspace(0, rng.uniform(1.5, 6), n) + rng.uniform(0, 3))
    if model_name == "timenet":
        return [x[i: i + 8] for i in range(0, 32, 8)]
    labels = rng.integers(0, 5, 32).astype(np.int32)
    head = (labels >= 2).astype(np.int32)
    return [(x[i: i + 8], labels[i: i + 8], head[i: i + 8]) for i in range(0, 32, 8)]


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("model", choices=["timenet", "convtimenet"])
    parser.add_argument("out")
    parser.add_argument("--init")
    parser.add_argument("--save")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args(argv)

    import keras
    import numpy as np

    from tszoo.architectures.convtimenet import build_convtimenet, build_multihead, multihead_loss
    from tszoo.architectures.timenet import build_timenet, reconstruction_loss
    from builders.training import Trainer, default_strategy, scope

    strategy = default_strategy("multiworker" if "TF_CONFIG" in os.environ else "default")
    keras.utils.set_random_seed(0)
    tf_backend = keras.backend.backend() == "tensorflow"
    with scope(strategy):
        if args.model == "timenet":
            model, _ = build_timenet(units=6, num_layers=2, dropout=0.0)
            loss, inputs = (lambda b, out: reconstruction_loss(b, out)), None
            signature = "x"
        else:
            model = build_multihead(build_convtimenet((3, 5), 4, 1, 4), {"a": 2, "b": 3})
            columns = np.array([0, 0, 1, 1, 1], np.int32)
            loss, inputs = (lambda b, logits: multihead_loss(logits, b[1], columns, b[2])), (lambda b: b[0])
            signature = "x,labels,head"
        optimizer = keras.optimizers.SGD(0.05)
    if args.init:
        model.load_weights(args.init)
    if args.save:
        model.save_weights(args.save)
    spec = None
    if tf_backend:
        import tensorflow as tf

        x_spec = tf.TensorSpec([None, None, 1], tf.float32)
        spec = x_spec if signature == "x" else (x_spec, tf.TensorSpec([None], tf.int32),
                                                tf.TensorSpec([None], tf.int32))
    trainer = Trainer(model, optimizer, loss, args.out, inputs=inputs, strategy=strategy, batch_signature=spec)
    history = trainer.fit(lambda epoch: iter(data(args.model)), args.epochs, verbose=0)
    print(json.dumps([h["loss"] for h in history]))


if __name__ == "__main__":
    main()
