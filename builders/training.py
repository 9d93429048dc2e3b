"""One training loop for every tszoo model, under TensorFlow or JAX: checkpoints, exact resume, progress.

Why not ``model.fit``: resuming must continue exactly where a run stopped. Here the data of epoch ``e`` is a pure
function of ``(seed, e)`` (``make_batches(epoch)`` yields NumPy batches), and the model's variables (weights,
batch-norm statistics, dropout seed states), the optimizer's variables and the epoch counter are checkpointed
together after every epoch, so an interrupted run resumed with ``resume=True`` replays the same batches from the
same state.

The loop is the same on both backends; only the gradient step differs:

* TensorFlow: a ``tf.function`` step under a ``tf.distribute`` strategy (default, mirrored GPUs, multi-worker);
  the NumPy batches become a ``tf.data`` pipeline so a strategy can split them.
* JAX (``KERAS_BACKEND=jax``, e.g. on a lent GPU machine without TensorFlow): a ``jax.jit`` step over
  ``model.stateless_call`` and ``optimizer.stateless_apply``; batch lengths are rounded up to a multiple of
  ``JAX_LENGTH_MULTIPLE`` (more NaN padding, which the models ignore) so that few shapes are compiled.

The checkpoint is a plain ``.npz`` of variable values (backend-neutral): a run started under JAX can be resumed
or published under TensorFlow and the other way round.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import math
import time
import weakref
from pathlib import Path

import keras
import numpy as np

from tszoo.checkpointing import Checkpoint, replace_atomically
from tszoo.layers import JAX_LENGTH_MULTIPLE, pad_time
from tszoo.publishing import hardware  # noqa: F401  (the recipes record it)



def timing(history) -> dict:
    """A card's timing fields: ``wall_time_s`` sums the epochs' training seconds; the validation after each
    epoch is counted apart, where the run recorded it."""
    timed = [r["validation_seconds"] for r in history if "validation_seconds" in r]
    return {"wall_time_s": round(sum(r["seconds"] for r in history)),
            "wall_time_counts": "the epochs' training steps; the validation after each epoch is not included",
            **({"validation_seconds": round(sum(timed)), "epochs_with_validation_timed": len(timed)}
               if timed else {})}


def backend() -> str:
    return keras.backend.backend()


@functools.cache
def default_strategy(name: str | None = None):
    """``None``/"default": the default strategy; "mirrored": MirroredStrategy over the visible devices.

    TensorFlow only. One strategy per name and process: a second MirroredStrategy over the same devices reuses the
    first one's collective keys and its all-reduces fail ("Shape mismatch in the collective instance",
    tensorflow#62790).
    """
    if backend() != "tensorflow":
        if name in (None, "default"):
            return None
        raise ValueError(f"strategy {name!r} needs the TensorFlow backend (this is {backend()!r}); use 'default'")
    import tensorflow as tf

    if name in (None, "default"):
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"strategy {name!r}; expected 'default', 'mirrored' or 'multiworker'")


class _Scope:
    """``strategy.scope()`` under TensorFlow, nothing under JAX."""

    def __init__(self, strategy):
        self.strategy = strategy

    def __enter__(self):
        self._cm = self.strategy.scope() if self.strategy is not None else None
        return self._cm.__enter__() if self._cm is not None else None

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc) if self._cm is not None else False


def scope(strategy):
    """Build models and optimizers inside this: ``with scope(strategy): ...`` (any backend)."""
    return _Scope(strategy)


# -- the gradient steps ----------------------------------------------------------------------------------------


def _pad_time(batch, multiple: int):
    """NaN-pad every float ``(batch, time, channels)`` array of a batch to a multiple of ``multiple`` steps."""
    return tuple(pad_time(a, multiple) for a in batch) if isinstance(batch, tuple) else pad_time(batch, multiple)


class _JaxStep:
    """One jitted gradient step over the model's and optimizer's variable values."""

    def __init__(self, model, optimizer, loss, inputs):
        import jax

        self.model, self.optimizer = model, optimizer

        def compute(trainable, non_trainable, batch):
            outputs, non_trainable = model.stateless_call(trainable, non_trainable, inputs(batch), training=True)
            return keras.ops.mean(loss(batch, outputs)), non_trainable

        grad = jax.value_and_grad(compute, has_aux=True)

        def step(state, batch):
            trainable, non_trainable, opt = state
            (value, non_trainable), grads = grad(trainable, non_trainable, batch)
            trainable, opt = optimizer.stateless_apply(opt, grads, trainable)
            return value, (trainable, non_trainable, opt)

        self.step = jax.jit(step)

    def pull(self):
        return ([v.value for v in self.model.trainable_variables],
                [v.value for v in self.model.non_trainable_variables],
                [v.value for v in self.optimizer.variables])

    def push(self, state):
        for variables, values in zip((self.model.trainable_variables, self.model.non_trainable_variables,
                                      self.optimizer.variables), state):
            for variable, value in zip(variables, values):
                variable.assign(value)

    def run_epoch(self, batches, on_step):
        state = self.pull()
        for batch in batches:
            value, state = self.step(state, _pad_time(batch, JAX_LENGTH_MULTIPLE))
            on_step(float(value))
        self.push(state)


class _TensorFlowStep:
    """A traced step under a ``tf.distribute`` strategy; the loss is averaged over the global batch."""

    def __init__(self, model, optimizer, loss, inputs, strategy, batch_signature):
        import tensorflow as tf

        self.tf, self.strategy, self.signature = tf, strategy, batch_signature

        def replica_step(batch):
            with tf.GradientTape() as tape:
                losses = loss(batch, model(inputs(batch), training=True))
                value = tf.nn.compute_average_loss(losses)  # mean over the global batch, whatever this share
            grads = tape.gradient(value, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return value

        def distributed(batch):
            per_replica = strategy.run(replica_step, args=(batch,))
            return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

        self.distributed, self.traced = distributed, {}

    def run_epoch(self, batches, on_step):
        tf = self.tf
        dataset = tf.data.Dataset.from_generator(lambda: batches, output_signature=self.signature)
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        dataset = self.strategy.experimental_distribute_dataset(dataset.with_options(options).prefetch(2))
        key = repr(dataset.element_spec)  # one trace per distributed element spec, for any length or size
        if key not in self.traced:
            self.traced[key] = tf.function(self.distributed, input_signature=[dataset.element_spec])
        for batch in dataset:
            on_step(float(self.traced[key](batch)))


def batch_signature(labels: bool = False):
    """The TensorFlow spec of one batch: NaN-padded series ``(batch, time, 1)``, and with ``labels`` the global
    label and head of each series (ConvTimeNet's multi-head batches). ``None`` under another backend."""
    if backend() != "tensorflow":
        return None
    import tensorflow as tf

    x = tf.TensorSpec([None, None, 1], tf.float32)
    return (x, tf.TensorSpec([None], tf.int32), tf.TensorSpec([None], tf.int32)) if labels else x


def predictor(model, training: bool = False):
    """``x -> model(x)`` as NumPy, compiled once for any batch size and length, without changing any variable
    (with ``training=True`` batch norm uses the batch's own statistics and the moving ones stay as they are)."""
    if backend() == "jax":
        fn = _jax_forward(model, training)
        return lambda x: np.asarray(fn([v.value for v in model.trainable_variables],
                                       [v.value for v in model.non_trainable_variables],
                                       _pad_time(np.asarray(x, np.float32), JAX_LENGTH_MULTIPLE)))
    if not training:
        from tszoo.inference import compiled

        return compiled(model)
    import tensorflow as tf

    fn = tf.function(lambda tv, ntv, x: model.stateless_call(tv, ntv, x, training=True)[0], reduce_retracing=True)
    return lambda x: fn([v.value for v in model.trainable_variables],
                        [v.value for v in model.non_trainable_variables], tf.constant(x, tf.float32)).numpy()


_JAX_FORWARD = weakref.WeakKeyDictionary()


def _jax_forward(model, training: bool):
    """One jitted ``(trainable, non_trainable, x) -> outputs`` per model and mode, kept for the model's life: a
    validation after every epoch then compiles each batch shape once per run, not once per epoch."""
    import jax

    per_model = _JAX_FORWARD.setdefault(model, {})
    if training not in per_model:
        per_model[training] = jax.jit(lambda tv, ntv, x: model.stateless_call(tv, ntv, x, training=training)[0])
    return per_model[training]


class Trainer:
    """Train ``model`` by minimising the mean of ``loss(batch, model(inputs(batch))) -> (batch,)``.

    Args:
        model: a Keras model, built under ``scope(strategy)``.
        optimizer: a Keras optimizer, created under the same scope.
        loss: ``loss(batch, outputs)`` returns one loss per example (``keras.ops``, so any backend).
        out_dir: where ``checkpoints/``, ``logs/`` (TensorBoard, where TensorFlow is installed),
            ``history.jsonl`` and ``best.weights.h5`` go.
        inputs: ``inputs(batch)`` is what the model is called on (default: the batch itself).
        strategy: a ``tf.distribute.Strategy`` (TensorFlow only); default: the default strategy.
        batch_signature: the ``tf.TensorSpec`` structure of one batch (TensorFlow), so that batches of any length
            or size run through one traced step.
        max_to_keep, keep_every: the checkpoints kept (:class:`tszoo.checkpointing.Checkpoint`).
    """

    def __init__(self, model, optimizer, loss, out_dir, *, inputs=None, strategy=None, batch_signature=None,
                 max_to_keep: int = 2, keep_every: int = 0):
        self.model, self.optimizer = model, optimizer
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        inputs = inputs or (lambda batch: batch)
        with scope(strategy):
            self.optimizer.build(self.model.trainable_variables)
        if backend() == "jax":
            if strategy is not None:
                raise ValueError("tf.distribute strategies need the TensorFlow backend")
            self.step = _JaxStep(model, optimizer, loss, inputs)
        elif backend() == "tensorflow":
            import tensorflow as tf

            self.step = _TensorFlowStep(model, optimizer, loss, inputs, strategy or tf.distribute.get_strategy(),
                                        batch_signature)
        else:
            raise ValueError(f"the training loop runs under the TensorFlow or JAX backend, not {backend()!r}")
        self.checkpoint = Checkpoint(self.out_dir / "checkpoints", model, optimizer, max_to_keep, keep_every)
        self.best = math.inf

    def restore(self) -> int:
        """Restore the latest checkpoint, if any; returns the epoch to start from."""
        if self.checkpoint.latest is None:
            return 0
        state = self.checkpoint.restore()
        self.best = state["best"] if state["best"] is not None else math.inf
        return int(state["epoch"])

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

    def _summary_writer(self):
        if importlib.util.find_spec("tensorflow") is None:
            return None
        import tensorflow as tf

        return tf.summary.create_file_writer(str(self.out_dir / "logs"))

    def fit(self, make_batches, epochs: int, *, validate=None, monitor: str | None = None, resume: bool = False,
            verbose: int = 1, steps_per_epoch: int | None = None, validate_every: int = 1):
        """Train until ``epochs`` epochs are done.

        ``make_batches(epoch)`` yields that epoch's NumPy batches; ``validate()`` returns a dict of metrics after
        every ``validate_every``-th epoch and after the last; ``monitor`` names the one to minimise, whose best
        weights (among the validated epochs) are kept in ``best.weights.h5``.
        With ``resume=True`` training continues from the latest checkpoint; without it an existing checkpoint is
        an error, so that a run is never silently overwritten.
        """
        if self.checkpoint.latest is not None and not resume:
            raise FileExistsError(f"{self.out_dir} already holds checkpoints; pass resume=True to continue that "
                                  "run, or choose another output folder")
        if int(validate_every) < 1:
            raise ValueError(f"validate_every={validate_every!r}; expected an integer >= 1 (1: after every epoch)")
        start = self.restore() if resume else 0
        if resume:
            self._truncate_history(start)
        writer = self._summary_writer()
        history = []
        for epoch in range(start, epochs):
            began = time.time()
            bar = keras.utils.Progbar(steps_per_epoch, verbose=verbose, stateful_metrics=["loss"],
                                      unit_name="batch")
            totals = [0.0, 0]

            def on_step(value):
                totals[0] += value
                totals[1] += 1
                bar.update(totals[1], [("loss", totals[0] / totals[1])])

            self.step.run_epoch(make_batches(epoch), on_step)
            record = {"epoch": epoch + 1, "loss": totals[0] / max(totals[1], 1), "steps": totals[1],
                      "seconds": round(time.time() - began, 1), "backend": backend()}
            if validate is not None and ((epoch + 1) % int(validate_every) == 0 or epoch + 1 == epochs):
                checked = time.time()
                # Under TensorFlow an inference call draws from the dropout layers' seed generators (Keras's RNN
                # cells make their dropout mask whether training or not): without this, validating would change
                # the training that follows, and a run's trajectory would depend on how often it is validated.
                rng = [(v, keras.ops.convert_to_numpy(v.value)) for v in self.model.non_trainable_variables
                       if v.path.endswith("seed_generator_state")]
                record.update(validate())
                for variable, value in rng:
                    variable.assign(value)
                record["validation_seconds"] = round(time.time() - checked, 1)
            if monitor is not None and monitor in record and record[monitor] < self.best:
                self.best = record[monitor]
                replace_atomically(self.out_dir / "best.weights.h5", lambda tmp: self.model.save_weights(str(tmp)))
                record["best"] = True
            # The record before the checkpoint: a kill between the two leaves a record that the resumed run drops
            # and recomputes (identically), never a checkpointed epoch without its record.
            with open(self.out_dir / "history.jsonl", "a") as f:
                f.write(json.dumps(record) + "\n")
            if writer is not None:
                import tensorflow as tf

                with writer.as_default():
                    for key, value in record.items():
                        if isinstance(value, (int, float)) and not isinstance(value, bool) and key != "epoch":
                            tf.summary.scalar(key, value, step=epoch + 1)
            self.checkpoint.save(epoch + 1, {"epoch": epoch + 1,
                                             "best": None if math.isinf(self.best) else self.best})
            history.append(record)
            if verbose:
                print(" ".join(f"{k}={v:.5g}" if isinstance(v, float) else f"{k}={v}" for k, v in record.items()),
                      flush=True)
        return history


def recipe_parser(prog: str, doc: str, model: str, defaults: dict):
    """The command line of a pretraining recipe: ``train`` (with every default as an option) and ``publish``.

    Returns ``(parser, train_parser)`` so that a recipe can add its own options (``parser.publish_parser``: the
    ``publish`` subcommand's).
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
    p.add_argument("--archive", default=None, help="UCR 2018 archive folder, where publishing recomputes statistics")
    parser.publish_parser = p
    return parser, t


def read_history(out_dir) -> list[dict]:
    path = Path(out_dir) / "history.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def pad_batch(series: list[np.ndarray]) -> np.ndarray:
    """NaN-padded ``(n, longest, 1)`` float32 batch of 1-D series."""
    out = np.full((len(series), max(len(s) for s in series), 1), np.nan, np.float32)
    for i, s in enumerate(series):
        out[i, : len(s), 0] = s
    return out


def length_bucketed(series: list[np.ndarray], batch_size: int, seed: int, epoch: int,
                    boundaries=(48, 96, 160, 256, 384)):
    """One epoch of NaN-padded NumPy batches ``(batch, longest, 1)``, series of similar length batched together.

    Each series once; the order is a pure function of ``(seed, epoch)``, so a resumed run sees the same batches.
    """
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(series))
    buckets: dict[int, list[int]] = {}
    for i in order:
        buckets.setdefault(int(np.searchsorted(boundaries, len(series[i]), side="right")), []).append(int(i))
    batches = [idx[s: s + batch_size] for idx in buckets.values() for s in range(0, len(idx), batch_size)]
    for b in rng.permutation(len(batches)):
        yield pad_batch([series[i] for i in batches[b]])


# settings that runs begun before the option existed were trained with
SETTINGS_BEFORE_THEY_EXISTED = {"precision": "float32"}


def write_settings(out_dir, settings: dict, resume: bool) -> dict:
    """Write a run's ``settings.json``; ``settings["hardware"]`` is this session's.

    A resumed run keeps the file, refuses settings that differ from the run's (the batches, schedule and model
    would no longer be the ones checkpointed), and appends this session's hardware to the list of those that
    trained the run (a run started on a GPU under JAX and finished here lists both).
    """
    path = Path(out_dir) / "settings.json"
    here = settings.pop("hardware")
    if resume and path.exists():
        # a setting added after the run began has the value the run had without it
        old = {**{k: v for k, v in SETTINGS_BEFORE_THEY_EXISTED.items() if k in settings},
               **json.loads(path.read_text())}
        changed = {k: (old.get(k), v) for k, v in settings.items()  # where it runs may differ between sessions
                   if k not in ("strategy", "archive") and k in old and old[k] != v}
        if changed:
            raise ValueError(f"--resume with settings that differ from the run in {out_dir}: " + "; ".join(
                f"{k}: run has {a!r}, given {b!r}" for k, (a, b) in changed.items()) + ". Resume with the run's "
                "settings, or start a new run in another folder")
        hardware_list = old.get("hardware", [])
        hardware_list = [hardware_list] if isinstance(hardware_list, str) else list(hardware_list)
        settings = {**old, **{k: settings[k] for k in ("strategy", "archive") if k in settings}}
    else:
        hardware_list = []
    settings["hardware"] = hardware_list + ([here] if here not in hardware_list else [])
    replace_atomically(path, lambda tmp: tmp.write_text(json.dumps(settings, indent=2)))
    return settings
