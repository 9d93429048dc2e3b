"""One training loop for every tszoo model: tf.distribute, checkpoints, exact resume, TensorBoard, progress.

Why not ``model.fit``: resuming must continue exactly where a run stopped. Here the data of epoch ``e`` is a pure
function of ``(seed, e)`` (``make_dataset(epoch)``), and model, optimizer, the dropout seed state and the epoch
counter are checkpointed together after every epoch, so an interrupted run resumed with ``resume=True`` replays
the same batches from the same state. (Fine-tuning, which is ``model.fit``, gets the same guarantee another way:
``ConvTimeNetClassifier(checkpoint_dir=...)``.)
"""

from __future__ import annotations

import functools
import json
import math
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tszoo.checkpointing import replace_atomically, training_checkpoint


@functools.cache
def default_strategy(name: str | None = None) -> tf.distribute.Strategy:
    """``None``/"default": the default strategy; "mirrored": MirroredStrategy over the visible devices.

    One strategy per name and process: a second MirroredStrategy over the same devices reuses the first one's
    collective keys and its all-reduces fail ("Shape mismatch in the collective instance", tensorflow#62790).
    """
    if name in (None, "default"):
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"strategy {name!r}; expected 'default', 'mirrored' or 'multiworker'")


class Trainer:
    """Train ``model`` by minimising ``per_example_loss(model, batch, training) -> (batch,)`` losses.

    Args:
        model: a Keras model built under ``strategy.scope()``.
        optimizer: a Keras optimizer, created under the same scope.
        per_example_loss: returns one loss per example of a batch (a replica's share of it).
        out_dir: where ``checkpoints/``, ``logs/`` (TensorBoard), ``history.jsonl`` and ``best.weights.h5`` go.
        strategy: a ``tf.distribute.Strategy``; default: the default strategy.
        batch_signature: the ``tf.TensorSpec`` structure of one batch, so that batches of any length or size run
            through one traced step.
    """

    def __init__(self, model, optimizer, per_example_loss, out_dir, *, strategy=None, batch_signature,
                 max_to_keep: int = 2):
        self.model = model
        self.optimizer = optimizer
        self.per_example_loss = per_example_loss
        self.out_dir = Path(out_dir)
        self.strategy = strategy or tf.distribute.get_strategy()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        with self.strategy.scope():
            self.optimizer.build(self.model.trainable_variables)
            self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
            self.best = tf.Variable(math.inf, dtype=tf.float64, trainable=False, name="best")
        self.checkpoint = training_checkpoint(model, optimizer, epoch=self.epoch, best=self.best)
        self.manager = tf.train.CheckpointManager(self.checkpoint, str(self.out_dir / "checkpoints"),
                                                  max_to_keep=max_to_keep)
        self.batch_signature = batch_signature
        self._steps = {}

    def _step(self, batch):
        with tf.GradientTape() as tape:
            losses = self.per_example_loss(self.model, batch, True)
            # Mean over the global batch, whatever this replica's share of it.
            loss = tf.nn.compute_average_loss(losses)
        grads = tape.gradient(loss, self.model.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.model.trainable_variables))
        return loss

    def _distributed_step(self, batch):
        per_replica = self.strategy.run(self._step, args=(batch,))
        return self.strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    def _train_step(self, dataset):
        """The traced step for this (distributed) dataset's element spec: one trace for any length or size."""
        spec = dataset.element_spec
        key = repr(spec)
        if key not in self._steps:
            self._steps[key] = tf.function(self._distributed_step, input_signature=[spec])
        return self._steps[key]

    def restore(self) -> int:
        """Restore the latest checkpoint, if any; returns the epoch to start from."""
        if self.manager.latest_checkpoint:
            self.checkpoint.restore(self.manager.latest_checkpoint).assert_existing_objects_matched()
        return int(self.epoch.numpy())

    def _truncate_history(self, epochs_done: int):
        """Keep the history records of the checkpointed epochs only (a kill may leave one more, or a torn line)."""
        path = self.out_dir / "history.jsonl"
        if not path.exists():
            return
        kept = []
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:  # a line torn by the kill
                continue
            if record.get("epoch", 0) <= epochs_done:
                kept.append(line)
        replace_atomically(path, lambda tmp: tmp.write_text("".join(k + "\n" for k in kept)))

    def fit(self, make_dataset, epochs: int, *, validate=None, monitor: str | None = None, resume: bool = False,
            verbose: int = 1, steps_per_epoch: int | None = None):
        """Train until ``epochs`` epochs are done.

        ``make_dataset(epoch)`` returns that epoch's ``tf.data.Dataset`` of batches; ``validate()`` returns a dict
        of metrics after each epoch; ``monitor`` names the one to minimise, whose best weights are kept in
        ``best.weights.h5``. With ``resume=True`` training continues from the latest checkpoint; without it an
        existing checkpoint is an error, so that a run is never silently overwritten.
        """
        if self.manager.latest_checkpoint and not resume:
            raise FileExistsError(f"{self.out_dir} already holds checkpoints; pass resume=True to continue that "
                                  "run, or choose another output folder")
        start = self.restore() if resume else 0
        if resume:
            self._truncate_history(start)
        writer = tf.summary.create_file_writer(str(self.out_dir / "logs"))
        history = []
        for epoch in range(start, epochs):
            began = time.time()
            dataset = make_dataset(epoch)
            if self.batch_signature is not None:  # every epoch's batches must fit the declared signature
                tf.nest.assert_same_structure(dataset.element_spec, self.batch_signature)
            dataset = self.strategy.experimental_distribute_dataset(dataset)
            step = self._train_step(dataset)
            bar = keras.utils.Progbar(steps_per_epoch, verbose=verbose, stateful_metrics=["loss"],
                                      unit_name="batch")
            total, steps = 0.0, 0
            for batch in dataset:
                loss = float(step(batch))
                total += loss
                steps += 1
                bar.update(steps, [("loss", total / steps)])
            record = {"epoch": epoch + 1, "loss": total / max(steps, 1), "steps": steps,
                      "seconds": round(time.time() - began, 1)}
            if validate is not None:
                record.update(validate())
            self.epoch.assign(epoch + 1)
            if monitor is not None and record[monitor] < float(self.best.numpy()):
                self.best.assign(record[monitor])
                replace_atomically(self.out_dir / "best.weights.h5", lambda tmp: self.model.save_weights(str(tmp)))
                record["best"] = True
            # The record before the checkpoint: a kill between the two leaves a record that the resumed run drops
            # and recomputes (identically), never a checkpointed epoch without its record.
            with open(self.out_dir / "history.jsonl", "a") as f:
                f.write(json.dumps(record) + "\n")
            with writer.as_default():
                for key, value in record.items():
                    if isinstance(value, (int, float)) and not isinstance(value, bool) and key != "epoch":
                        tf.summary.scalar(key, value, step=epoch + 1)
            self.manager.save(checkpoint_number=epoch + 1)
            history.append(record)
            if verbose:
                print(" ".join(f"{k}={v:.5g}" if isinstance(v, float) else f"{k}={v}" for k, v in record.items()),
                      flush=True)
        return history


def recipe_parser(prog: str, doc: str, model: str, defaults: dict):
    """The command line of a pretraining recipe: ``train`` (with every default as an option) and ``publish``.

    Returns ``(parser, train_parser)`` so that a recipe can add its own options.
    """
    import argparse

    parser = argparse.ArgumentParser(prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help=f"pretrain {model} on the source datasets")
    t.add_argument("--out", default=f"runs/{model}")
    t.add_argument("--archive", default=None, help="UCR 2018 archive folder (default $TSZOO_UCR_ROOT)")
    t.add_argument("--splits", default=None, help="splits.json (default: beside the archive)")
    t.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    t.add_argument("--strategy", default="default", choices=["default", "mirrored", "multiworker"])
    t.add_argument("--quiet", action="store_true")
    for key, value in defaults.items():
        t.add_argument(f"--{key.replace('_', '-')}", type=type(value), default=value)
    p = sub.add_parser("publish", help="publish the best epoch of a run into savedmodels/")
    p.add_argument("--run", default=f"runs/{model}")
    p.add_argument("--root", default=None, help="models folder (default: the repository's savedmodels/)")
    p.add_argument("--name", default=model, help=f"model name (default {model}; another name for an ablation)")
    p.add_argument("--version", type=int, default=None)
    p.add_argument("--card", default=None, help="JSON with extra metrics and card sections")
    return parser, t


def read_history(out_dir) -> list[dict]:
    path = Path(out_dir) / "history.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def ragged_dataset(series: list[np.ndarray], order: np.ndarray) -> tf.data.Dataset:
    """A dataset of variable-length series ``(length, 1)`` in the given order."""
    chosen = [series[i] for i in order]
    values = np.concatenate(chosen).astype(np.float32)
    lengths = np.array([len(s) for s in chosen], np.int64)
    ragged = tf.RaggedTensor.from_row_lengths(values[:, None], lengths)
    return tf.data.Dataset.from_tensor_slices(ragged).map(lambda r: r, num_parallel_calls=1)


def length_bucketed(series: list[np.ndarray], batch_size: int, seed: int, epoch: int,
                    boundaries=(48, 96, 160, 256, 384)) -> tf.data.Dataset:
    """One epoch of NaN-padded batches ``(batch, longest, 1)``, series of similar length batched together.

    The order is a pure function of ``(seed, epoch)``: a resumed run sees the same batches.
    """
    order = np.random.default_rng([seed, epoch]).permutation(len(series))
    ds = ragged_dataset(series, order)
    ds = ds.bucket_by_sequence_length(
        element_length_func=lambda x: tf.shape(x)[0],
        bucket_boundaries=list(boundaries),
        bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
        padding_values=np.float32(np.nan),
    )
    return ds.prefetch(2)
