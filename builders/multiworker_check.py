"""Run one worker of a tiny multi-worker training (TF_CONFIG set by the caller) and print its loss trajectory.

Used by tests/test_scale.py to show that the shared training loop runs under MultiWorkerMirroredStrategy with
several worker processes, and that the loss trajectory matches the single-process run.

    python -m builders.multiworker_check MODEL OUT   # MODEL: timenet or convtimenet; prints JSON losses
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(model_name: str, out: str):
    import keras
    import numpy as np
    import tensorflow as tf

    from builders.convtimenet_model import build_convtimenet, build_multihead, multihead_loss
    from builders.timenet_model import build_timenet, reconstruction_loss
    from builders.training import Trainer

    multi = "TF_CONFIG" in os.environ
    strategy = tf.distribute.MultiWorkerMirroredStrategy() if multi else tf.distribute.get_strategy()
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = np.sin(np.linspace(0, 3, 32)[None, :] * rng.uniform(0.5, 2, (32, 1)) + rng.uniform(0, 3, (32, 1)))
    x = x[..., None].astype(np.float32)
    with strategy.scope():
        if model_name == "timenet":
            model, _ = build_timenet(units=6, num_layers=2, dropout=0.0)
            loss = lambda m, b, t: reconstruction_loss(b, m(b, training=t))  # noqa: E731
            data = tf.data.Dataset.from_tensor_slices(x)
            signature = tf.TensorSpec([None, None, 1], tf.float32)
        else:
            model = build_multihead(build_convtimenet((3, 5), 4, 1, 4), {"a": 2, "b": 3})
            labels = rng.integers(0, 5, 32).astype(np.int32)
            head = (labels >= 2).astype(np.int32)
            columns = tf.constant([0, 0, 1, 1, 1], tf.int32)
            loss = lambda m, b, t: multihead_loss(m(b[0], training=t), b[1], columns, b[2])  # noqa: E731
            data = tf.data.Dataset.from_tensor_slices((x, labels, head))
            signature = (tf.TensorSpec([None, None, 1], tf.float32), tf.TensorSpec([None], tf.int32),
                         tf.TensorSpec([None], tf.int32))
        optimizer = keras.optimizers.SGD(0.05)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    trainer = Trainer(model, optimizer, loss, out, strategy=strategy, batch_signature=signature)
    history = trainer.fit(lambda epoch: data.batch(8).with_options(options), 3, verbose=0)
    print(json.dumps([h["loss"] for h in history]))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
