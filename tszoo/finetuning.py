"""Fine-tuning a pretrained body with a new softmax head: the default recipe of ``ConvTimeNetClassifier``.

The recipe, in order (each step says why):

1. **Batch-norm statistics adapted to the target** (AdaBN, Li et al. 2016): the body's moving statistics are
   replaced by those of the target's training series, so the embeddings the head first sees are the ones the
   body computes on this data, not on the pretraining mixture.
2. **Head initialised by a linear probe** (LP-FT, Kumar et al. 2022): a multinomial logistic regression on the
   frozen embeddings gives the new head its first weights, so the first gradient steps do not push a random
   head's errors back into the pretrained filters.
3. **Linear warm-up, then cosine decay to zero**, over a budget of ``min(epochs x steps per epoch, max_steps)``
   gradient steps, and the weights at the end of the schedule are kept (with ``validation_fraction`` those of the
   epoch with the lowest validation loss). Annealing is what paid in the measurements behind this recipe.
4. **Batches drawn as a pure function of (seed, epoch)** and every initializer seeded, so a fit is a function of
   its data, settings and ``random_state`` alone, in any process, and a checkpointed fit resumes to the same
   weights.
"""

from __future__ import annotations

import json
import shutil
import weakref
from pathlib import Path

import keras
import numpy as np

from tszoo.checkpointing import Checkpoint, replace_atomically


def cosine_schedule(learning_rate: float, total_steps: int, warmup_steps: int, final_fraction: float = 0.02):
    """Linear warm-up to ``learning_rate``, then cosine decay to ``final_fraction`` of it at ``total_steps``."""
    warmup_steps = max(0, min(int(warmup_steps), int(total_steps) - 1))
    return keras.optimizers.schedules.CosineDecay(
        0.0 if warmup_steps else learning_rate, max(1, int(total_steps) - warmup_steps), alpha=final_fraction,
        warmup_target=learning_rate if warmup_steps else None, warmup_steps=warmup_steps)


class ResettableCosine(keras.optimizers.schedules.CosineDecay):
    """:func:`cosine_schedule` with its settings in variables: one traced train step serves fine-tunings of any
    length and peak rate (:meth:`reset`). The same rates as ``cosine_schedule`` up to float32 rounding: with the
    settings as constants, graph optimisation can round a rate 1 ulp apart (seen without warm-up), so
    ``ConvTimeNetClassifier`` uses this schedule on every TensorFlow path, kept network or new."""

    def __init__(self, final_fraction: float = 0.02):
        super().__init__(0.0, 1, alpha=final_fraction, warmup_target=0.0, warmup_steps=0)
        self.initial_learning_rate = keras.Variable(0.0, trainable=False, name="schedule_start")
        self.decay_steps = keras.Variable(1.0, trainable=False, name="schedule_decay_steps")
        self.warmup_target = keras.Variable(0.0, trainable=False, name="schedule_peak")
        self.warmup_steps = keras.Variable(0.0, trainable=False, name="schedule_warmup_steps")

    def reset(self, learning_rate: float, total_steps: int, warmup_steps: int) -> None:
        warmup_steps = max(0, min(int(warmup_steps), int(total_steps) - 1))
        self.initial_learning_rate.assign(0.0 if warmup_steps else float(learning_rate))
        self.decay_steps.assign(float(max(1, int(total_steps) - warmup_steps)))
        self.warmup_target.assign(float(learning_rate))
        self.warmup_steps.assign(float(warmup_steps))


def default_batch_size(n: int) -> int:
    """``min(32, max(4, n // 10))``: about ten batches an epoch on small data."""
    return int(min(32, max(4, n // 10)))


# max_steps="auto": (fewest training series, step cap) from the largest size down; below every size, the first cap
AUTO_STEP_CAPS = ((1000, 1000), (0, 250))


def step_cap(max_steps, n: int) -> int | None:
    """The step cap a fit on ``n`` series runs under: ``max_steps`` itself, or for ``"auto"`` 250 steps below
    1,000 training series and 1,000 steps from 1,000 up (:data:`AUTO_STEP_CAPS`). A clear error for anything
    else than ``None``, a positive integer or ``"auto"``."""
    if isinstance(max_steps, str):
        if max_steps != "auto":
            raise ValueError(f"max_steps={max_steps!r}; expected a positive integer, None (no cap) or 'auto'")
        return next(cap for least, cap in AUTO_STEP_CAPS if n >= least)
    if max_steps is None:
        return None
    if isinstance(max_steps, bool) or not isinstance(max_steps, (int, np.integer)) or max_steps < 1:
        raise ValueError(f"max_steps={max_steps!r}; expected a positive integer, None (no cap) or 'auto'")
    return int(max_steps)


def budget(n: int, batch_size: int, epochs: int, max_steps) -> tuple[int, int]:
    """``(epochs, batches per epoch)``: ``epochs`` passes over ``n`` series, capped at ``max_steps`` steps (an
    epoch is then shortened to ``max_steps`` batches when one pass alone is longer; ``"auto"``: :func:`step_cap`)."""
    max_steps = step_cap(max_steps, n)
    per_epoch = -(-n // batch_size)
    if max_steps:
        per_epoch = min(per_epoch, int(max_steps))
        epochs = max(1, min(int(epochs), int(max_steps) // per_epoch))
    return int(epochs), int(per_epoch)


AUGMENTATIONS = ("jitter", "warp", "crop")


def parse_augment(augment) -> tuple[str, ...]:
    """``None`` -> ``()``; ``"jitter+crop"`` or ``["jitter", "crop"]`` -> ``("jitter", "crop")``; a clear error for
    a name that is not one of :data:`AUGMENTATIONS`."""
    if augment is None or augment == "" or augment == ():
        return ()
    names = augment.split("+") if isinstance(augment, str) else list(augment)
    unknown = [n for n in names if n not in AUGMENTATIONS]
    if unknown or not names:
        raise ValueError(f"augment={augment!r}: {unknown or 'nothing'} is not an augmentation; expected None or "
                         f"names from {list(AUGMENTATIONS)} joined by '+', e.g. 'jitter+warp+crop'")
    return tuple(dict.fromkeys(names))


def augment_batch(x: np.ndarray, kinds, rng: np.random.Generator, jitter: float = 0.05, warp: float = 0.1,
                  crop: float = 0.9) -> np.ndarray:
    """Random label-preserving changes to a batch ``(n, time, channels)`` of NaN-padded series; the valid part of
    each series is changed, the padding stays NaN at the end (the body masks it), so a real 0.0 stays data.

    * ``"crop"``: a random window of ``ceil(crop x length)`` valid steps, moved to the start (the rest NaN);
    * ``"warp"``: magnitude warping, each channel multiplied by a smooth curve through 4 knots ~ N(1, ``warp``);
    * ``"jitter"``: Gaussian noise of ``jitter`` x the series' standard deviation, per channel.

    Scaling and offsets are not among them: the body z-normalises every series (``SeriesStandardization``).
    """
    kinds = parse_augment(kinds)
    out = np.full_like(x, np.nan)
    lengths = (~np.isnan(x).any(axis=2)).sum(axis=1)
    for i, length in enumerate(lengths):
        s = x[i, :length].astype(np.float64)
        if "crop" in kinds and length > 2:
            keep = max(2, int(np.ceil(crop * length)))
            start = int(rng.integers(0, length - keep + 1))
            s = s[start:start + keep]
        if "warp" in kinds and len(s) > 1:
            knots = rng.normal(1.0, warp, size=(4, s.shape[1]))
            where = np.linspace(0.0, 1.0, len(s))
            s = s * np.stack([np.interp(where, np.linspace(0.0, 1.0, 4), knots[:, c]) for c in range(s.shape[1])],
                             axis=1)
        if "jitter" in kinds:
            s = s + rng.normal(0.0, 1.0, size=s.shape) * (jitter * s.std(axis=0, keepdims=True))
        out[i, :len(s)] = s
    return out


class EpochBatches(keras.utils.PyDataset):
    """``steps`` batches an epoch, in an order that is a pure function of ``(seed, epoch)``; with ``augment``
    (:func:`augment_batch`) each batch's changes are a pure function of ``(seed, epoch, batch)`` too."""

    def __init__(self, x, y, batch_size: int, steps: int, seed: int, epoch: int = 0, augment=None):
        super().__init__()
        self.x, self.y, self.batch_size, self.steps, self.seed = x, y, batch_size, steps, seed
        self.epoch = epoch
        self.augment = parse_augment(augment)
        self.order = self._order()

    def _order(self):
        return np.random.default_rng([self.seed, self.epoch]).permutation(len(self.x))

    def __len__(self):
        return self.steps

    def __getitem__(self, i):
        idx = self.order[i * self.batch_size: (i + 1) * self.batch_size]
        if self.augment:
            rng = np.random.default_rng([self.seed, self.epoch, i, 7])
            return augment_batch(self.x[idx], self.augment, rng).astype(self.x.dtype), self.y[idx]
        return self.x[idx], self.y[idx]

    def on_epoch_end(self):
        self.epoch += 1
        self.order = self._order()

    def tf_dataset(self, epochs: int):
        """The batches that ``model.fit(self, epochs=epochs)`` feeds, as one ``tf.data`` pipeline that gathers them
        from the data by index: the same numbers without a Python call per batch (fit it with
        ``steps_per_epoch=self.steps``). A fit on a PyDataset first reads two batches to learn their shapes and
        then trains from the next epoch on, so its first trained epoch is ``self.epoch + 1`` and this one's too
        (a fit on it is tested to give the same weights). With a few series that call was much of a step: 36
        fits on GunPoint, ArrowHead and ItalyPowerDemand at 1, 5 and 10 series per class, pretrained and from
        scratch, took 141 s instead of 215 (at 1 per class 23 s instead of 57; the 2-core CPU, alone; the A/B script
        is in the message of the commit that brought this). Not with ``augment``, whose changes are made in NumPy."""
        import tensorflow as tf

        if self.augment:
            raise ValueError("tf_dataset makes no augmented batches; fit on the PyDataset itself")
        first = self.epoch + 1
        orders = np.stack([np.random.default_rng([self.seed, e]).permutation(len(self.x))
                           for e in range(first, first + int(epochs))])
        x, y, size, steps = tf.constant(self.x), tf.constant(self.y), self.batch_size, self.steps
        batches = tf.data.Dataset.from_tensor_slices(orders).flat_map(
            lambda order: tf.data.Dataset.from_tensor_slices(order).batch(size).take(steps))
        return batches.map(lambda i: (tf.gather(x, i), tf.gather(y, i))).prefetch(2)


class KeepBest(keras.callbacks.Callback):
    """Keep the weights of the epoch with the lowest ``monitor``."""

    def __init__(self, monitor: str):
        super().__init__()
        self.monitor = monitor
        self.best, self.weights, self.best_epoch = np.inf, None, None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is not None and value < self.best:
            self.best, self.weights, self.best_epoch = value, self.model.get_weights(), epoch

    def restore(self, model):
        if self.weights is not None:
            model.set_weights(self.weights)


class Resumable(keras.callbacks.Callback):
    """Checkpoint a fine-tuning after every epoch; :meth:`restore` picks it up in the next fit.

    ``state.json`` names the checkpoint it goes with and is replaced atomically after the checkpoint is written,
    so a kill at any point leaves a consistent pair (the last one or the one before). A folder whose state belongs
    to another fit (``fingerprint``: data, split and settings) is refused and left untouched.
    """

    def __init__(self, folder, fingerprint: str, model, optimizer, keep_best: KeepBest | None):
        super().__init__()
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.state_path = self.folder / "state.json"
        self.fingerprint, self.keep_best = fingerprint, keep_best
        self.checkpoint = Checkpoint(self.folder / "checkpoints", model, optimizer)
        self.records: dict = {}
        self.state: dict = {}

    def restore(self) -> tuple[int, dict]:
        """``(epochs done, history so far)``, after restoring any checkpoint of this fit."""
        if not self.state_path.exists():  # a fresh fit, or files left by a kill before the first state.json
            shutil.rmtree(self.folder / "checkpoints", ignore_errors=True)
            self.state = {"fingerprint": self.fingerprint, "epochs_done": 0}
            return 0, {}
        state = json.loads(self.state_path.read_text())
        if state.get("fingerprint") != self.fingerprint:
            raise ValueError(f"checkpoint_dir {str(self.folder)!r} holds the checkpoint of another fit (different "
                             "data or settings); give this fit its own folder, or remove that one to discard the "
                             "other fit's progress")
        self.checkpoint.restore(self.folder / "checkpoints" / state["checkpoint"])
        if self.keep_best is not None:
            self.keep_best.best = state["best"]
            if state.get("best_weights"):
                with np.load(self.folder / state["best_weights"]) as f:
                    self.keep_best.weights = [f[f"w{i}"] for i in range(len(f.files))]
                self.keep_best.best_epoch = state["best_epoch"]
        self.records = {k: list(v) for k, v in state["history"].items()}
        self.state = state
        return state["epochs_done"], state["history"]

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.records.setdefault(key, []).append(float(value))
        state = dict(self.state, epochs_done=epoch + 1, history=self.records)
        best = self.keep_best
        if best is not None:
            state.update(best=float(best.best), best_epoch=best.best_epoch)
            if best.weights is not None and best.best_epoch == epoch:
                name = f"best-{epoch + 1}.npz"
                replace_atomically(self.folder / name, lambda tmp: np.savez(
                    tmp, **{f"w{i}": w for i, w in enumerate(best.weights)}))
                state["best_weights"] = name
        state["checkpoint"] = self.checkpoint.save(epoch + 1, {"epoch": epoch + 1}).name
        replace_atomically(self.state_path, lambda tmp: tmp.write_text(json.dumps(state)))
        self.state = state
        for old in self.folder.glob("best-*.npz"):  # keep the one state.json names
            if old.name != state.get("best_weights"):
                old.unlink()

    def finish(self):
        """The fit completed: its checkpoint is no longer needed."""
        # state.json first: a kill in here then leaves files that the next fit ignores, never a state.json whose
        # checkpoint is gone.
        self.state_path.unlink(missing_ok=True)
        shutil.rmtree(self.folder / "checkpoints", ignore_errors=True)
        for path in self.folder.glob("best-*.npz"):
            path.unlink(missing_ok=True)


def classification_loss(label_smoothing: float, n_classes: int):
    """The fine-tuning loss: cross-entropy on integer labels (Keras' own, exactly, without smoothing), or with
    the target of each series moved from its class's one-hot vector to ``(1 - e) * one_hot + e / n_classes``."""
    if not label_smoothing:
        return "sparse_categorical_crossentropy"
    e = float(label_smoothing)

    def smoothed_crossentropy(y_true, y_pred):
        codes = keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32")
        return keras.losses.categorical_crossentropy(keras.ops.one_hot(codes, n_classes, dtype=y_pred.dtype),
                                                     y_pred, label_smoothing=e)

    return smoothed_crossentropy


class PullTowards:
    """L2-SP (Li, Grandvalet & Davoine, ICML 2018) for one variable: ``strength / 2 * ||w - w0||^2``, the starting
    point ``w0`` held in a variable of its own (:meth:`set`), so that a traced train step reading it serves every
    fit that starts from other pretrained values. A ``keras.Variable.regularizer``: Keras adds it to the loss."""

    def __init__(self, variable, strength: float):
        self.strength = float(strength)
        self.anchor = keras.Variable(np.asarray(keras.ops.convert_to_numpy(variable.value)), trainable=False,
                                     dtype=variable.dtype, name="l2sp_anchor")

    def set(self, variable) -> None:
        self.anchor.assign(variable.value)

    def __call__(self, x):
        return 0.5 * self.strength * keras.ops.sum(keras.ops.square(x - self.anchor))


def body_of(model):
    """The body (the pretrained network nested in a classifier built by :func:`tszoo.heads.classifier`)."""
    return next(layer for layer in model.layers if isinstance(layer, keras.Model))


def pull_body_towards_start(model, strength: float) -> int:
    """Hold the body (the classifier's nested network) of ``model`` near where it starts: every trainable
    variable of the body gets a :class:`PullTowards` regularizer at ``strength`` whose anchor is the variable's
    value now (the pretrained weights, before any step). A network that already has them (a kept trainer) has its
    anchors set again. The new head is not pulled anywhere. Returns how many variables are pulled."""
    body = body_of(model)
    count = 0
    for variable in body.trainable_variables:
        pull = variable.regularizer
        if isinstance(pull, PullTowards) and pull.strength == float(strength):
            pull.set(variable)
        else:
            variable.regularizer = PullTowards(variable, strength)
        count += 1
    return count


def release_body(model) -> None:
    """Remove what :func:`pull_body_towards_start` added: a fitted network trains on without being pulled."""
    body = body_of(model)
    for variable in body.trainable_variables:
        if isinstance(variable.regularizer, PullTowards):
            variable.regularizer = None


def batchnorm_layers(model) -> list:
    return [layer for layer in model._flatten_layers(include_self=False)
            if isinstance(layer, keras.layers.BatchNormalization)]


def adapt_batchnorm(model, x: np.ndarray, batch_size: int = 256) -> None:
    """Set every batch-norm layer's moving statistics to those of ``x`` (``(n, time, channels)``, NaN-padded)."""
    precise_batchnorm(model, (x[start: start + batch_size] for start in range(0, len(x), batch_size)))


def precise_batchnorm(model, batches) -> None:
    """Set every batch-norm layer's moving statistics to their average over ``batches`` ("precise BN", Wu &
    Johnson 2021), instead of the exponential average that lags behind the weights during training.

    Each batch (an array, or a tuple whose first element is the model's input) is run in training mode with
    momentum 0, which makes the moving statistics that batch's own; they are averaged, weighted by batch size.
    """
    layers = batchnorm_layers(model)
    if not layers:
        return
    momenta = [layer.momentum for layer in layers]
    sums, count = [[0.0, 0.0] for _ in layers], 0
    try:
        for layer in layers:
            layer.momentum = 0.0
        statistics = _jax_statistics(model, layers) if keras.backend.backend() == "jax" else None
        for batch in batches:
            x = batch[0] if isinstance(batch, tuple) else batch
            if statistics is None:
                model(x, training=True)
                values = [(layer.moving_mean, layer.moving_variance) for layer in layers]
            else:
                values = statistics(x)
            count += len(x)
            for total, (mean, var) in zip(sums, values):
                total[0] = total[0] + len(x) * keras.ops.convert_to_numpy(mean)
                total[1] = total[1] + len(x) * keras.ops.convert_to_numpy(var)
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum
    for (mean, var), layer in zip(sums, layers):
        layer.moving_mean.assign(mean / count)
        layer.moving_variance.assign(var / count)


_JAX_STATISTICS = weakref.WeakKeyDictionary()


def _jax_statistics(model, layers):
    """Under JAX: ``x -> [(mean, variance)]`` of each batch-norm layer after one training-mode call on ``x``, jitted
    once per model (traced with momentum 0, which is how ``precise_batchnorm`` calls it) and per shape; the batch is
    NaN-padded to a multiple of ``JAX_LENGTH_MULTIPLE`` steps so that few shapes compile (batch norm skips the padding: it is masked).
    Eager calls compile nothing but cost a dispatch per operation: about 40 s a validation on a GPU."""
    import jax

    if model not in _JAX_STATISTICS:
        index = {id(v): i for i, v in enumerate(model.non_trainable_variables)}
        where = [(index[id(l.moving_mean)], index[id(l.moving_variance)]) for l in layers]

        def call(tv, ntv, x):
            ntv = model.stateless_call(tv, ntv, x, training=True)[1]
            return [(ntv[m], ntv[v]) for m, v in where]

        _JAX_STATISTICS[model] = jax.jit(call)
    fn = _JAX_STATISTICS[model]
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]

    def statistics(x):
        from tszoo.layers import pad_time

        return fn(trainable, non_trainable, pad_time(np.asarray(x, np.float32)))

    return statistics


class saved_batchnorm:
    """``with saved_batchnorm(model): ...``: the moving statistics as they were on entry are put back on exit."""

    def __init__(self, model):
        self.layers = batchnorm_layers(model)

    def __enter__(self):
        self.saved = [(keras.ops.convert_to_numpy(l.moving_mean), keras.ops.convert_to_numpy(l.moving_variance))
                      for l in self.layers]
        return self

    def __exit__(self, *exc):
        for layer, (mean, var) in zip(self.layers, self.saved):
            layer.moving_mean.assign(mean)
            layer.moving_variance.assign(var)
        return False


def probe_head(embeddings: np.ndarray, codes: np.ndarray, n_classes: int, seed: int):
    """A softmax head's ``(kernel, bias)`` from a multinomial logistic regression on frozen embeddings."""
    from sklearn.linear_model import LogisticRegression

    probe = LogisticRegression(C=1.0, max_iter=2000, random_state=seed).fit(embeddings, codes)
    kernel = np.zeros((embeddings.shape[1], n_classes), np.float32)
    bias = np.zeros(n_classes, np.float32)
    if probe.coef_.shape[0] == 1:  # binary: one logit difference, split symmetrically over the two classes
        kernel[:, probe.classes_[1]] = probe.coef_[0] / 2
        kernel[:, probe.classes_[0]] = -probe.coef_[0] / 2
        bias[probe.classes_[1]], bias[probe.classes_[0]] = probe.intercept_[0] / 2, -probe.intercept_[0] / 2
    else:
        kernel[:, probe.classes_] = probe.coef_.T
        bias[probe.classes_] = probe.intercept_
    return kernel, bias
