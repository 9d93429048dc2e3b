"""The shared training loop: exact resume after an interruption, no silent overwrite, tf.distribute."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from builders.convtimenet_model import build_convtimenet, build_multihead, multihead_loss
from builders.timenet_model import build_timenet, reconstruction_loss
from builders.training import Trainer, length_bucketed


def _series(n=48, seed=0):
    rng = np.random.default_rng(seed)
    return [np.sin(np.linspace(0, rng.uniform(1, 4), L) + rng.uniform(0, 3)).astype(np.float32)
            for L in rng.integers(12, 40, size=n)]


def _timenet_trainer(out, strategy=None):
    keras.utils.set_random_seed(0)
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        autoencoder, _ = build_timenet(units=6, num_layers=2, dropout=0.3)  # dropout: its seed state must resume
        optimizer = keras.optimizers.Adam(0.01)
    return Trainer(autoencoder, optimizer, lambda m, b, t: reconstruction_loss(b, m(b, training=t)), out,
                   strategy=strategy, batch_signature=tf.TensorSpec([None, None, 1], tf.float32))


def straight_history(tmp_path):
    return [json.loads(x) for x in (tmp_path / "straight" / "history.jsonl").read_text().splitlines()]


def test_resume_after_interruption_equals_uninterrupted_run(tmp_path):
    series = _series()
    data = lambda epoch: length_bucketed(series, 8, seed=1, epoch=epoch, boundaries=(20, 30))  # noqa: E731
    straight = _timenet_trainer(tmp_path / "straight")
    straight.fit(data, 3, verbose=0)
    interrupted = _timenet_trainer(tmp_path / "interrupted")
    interrupted.fit(data, 1, verbose=0)  # the process dies here
    # ...having written a record past its last checkpoint, and half of another line
    with open(tmp_path / "interrupted" / "history.jsonl", "a") as f:
        f.write(json.dumps({"epoch": 2, "loss": -1.0}) + "\n" + '{"epoch": 3, "lo')
    resumed = _timenet_trainer(tmp_path / "interrupted")  # a fresh process: new model, new optimizer
    resumed.fit(data, 3, resume=True, verbose=0)
    for a, b in zip(straight.model.get_weights(), resumed.model.get_weights()):
        np.testing.assert_array_equal(a, b)
    history = [json.loads(x) for x in (tmp_path / "interrupted" / "history.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert [h["loss"] for h in history] == [h["loss"] for h in straight_history(tmp_path)]


def test_existing_run_is_not_overwritten_without_resume(tmp_path):
    series = _series(16)
    trainer = _timenet_trainer(tmp_path / "run")
    trainer.fit(lambda e: length_bucketed(series, 8, 0, e), 1, verbose=0)
    with pytest.raises(FileExistsError, match="resume"):
        _timenet_trainer(tmp_path / "run").fit(lambda e: length_bucketed(series, 8, 0, e), 2, verbose=0)


def test_epoch_data_is_a_pure_function_of_seed_and_epoch():
    series = _series(30)
    first = [b.numpy() for b in length_bucketed(series, 8, seed=5, epoch=2)]
    again = [b.numpy() for b in length_bucketed(series, 8, seed=5, epoch=2)]
    other = [b.numpy() for b in length_bucketed(series, 8, seed=5, epoch=3)]
    assert len(first) == len(again) and all(np.array_equal(a, b, equal_nan=True) for a, b in zip(first, again))
    assert not all(a.shape == b.shape and np.array_equal(a, b, equal_nan=True) for a, b in zip(first, other))
    # padding is NaN at the end, never zeros
    for batch in first:
        lengths = (~np.isnan(batch[..., 0])).sum(1)
        for row, n in zip(batch[..., 0], lengths):
            assert not np.isnan(row[:n]).any() and np.isnan(row[n:]).all()


def test_mirrored_strategy_on_two_cpu_devices_matches_single_device(tmp_path, mirrored_cpus):
    """Multi-head ConvTimeNet: the same loss trajectory on one device and on two mirrored logical CPUs."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 24, 1)).astype(np.float32)
    labels = rng.integers(0, 5, size=32).astype(np.int32)
    head = (labels >= 2).astype(np.int32)
    columns = tf.constant([0, 0, 1, 1, 1], tf.int32)

    def run(strategy, out):
        keras.utils.set_random_seed(0)
        with strategy.scope():
            model = build_multihead(build_convtimenet((3, 5), 4, 1, 4), {"a": 2, "b": 3})
            optimizer = keras.optimizers.SGD(0.05)
        trainer = Trainer(model, optimizer, lambda m, b, t: multihead_loss(m(b[0], training=t), b[1], columns, b[2]),
                          out, strategy=strategy, batch_signature=(
                              tf.TensorSpec([None, None, 1], tf.float32), tf.TensorSpec([None], tf.int32),
                              tf.TensorSpec([None], tf.int32)))
        data = lambda e: tf.data.Dataset.from_tensor_slices((x, labels, head)).batch(8)  # noqa: E731
        return [h["loss"] for h in trainer.fit(data, 3, verbose=0)]

    single = run(tf.distribute.OneDeviceStrategy("/cpu:0"), tmp_path / "one")
    mirrored = run(mirrored_cpus, tmp_path / "two")
    # Batch norm sees each replica's half batch, so the trajectories agree closely but not bit for bit.
    np.testing.assert_allclose(mirrored, single, rtol=0.05)
    assert mirrored[-1] < mirrored[0]


def test_timenet_loop_under_mirrored_strategy_matches_single_device(tmp_path, mirrored_cpus):
    series = _series(32)

    def run(strategy, out):
        keras.utils.set_random_seed(0)
        with strategy.scope():
            autoencoder, _ = build_timenet(units=6, num_layers=2, dropout=0.0)
            optimizer = keras.optimizers.SGD(0.1)
        trainer = Trainer(autoencoder, optimizer, lambda m, b, t: reconstruction_loss(b, m(b, training=t)), out,
                          strategy=strategy, batch_signature=tf.TensorSpec([None, None, 1], tf.float32))
        return [h["loss"] for h in trainer.fit(lambda e: length_bucketed(series, 8, 0, e), 3, verbose=0)]

    single = run(tf.distribute.OneDeviceStrategy("/cpu:0"), tmp_path / "one")
    mirrored = run(mirrored_cpus, tmp_path / "two")
    np.testing.assert_allclose(mirrored, single, rtol=0.05)
