"""scikit-learn estimators over tszoo's pretrained models.

* :class:`TimeNetEmbedder`: series -> frozen TimeNet embeddings (a transformer).
* :class:`TimeNetClassifier`: TN-C of the TimeNet paper: frozen embeddings -> RBF SVM, C and gamma chosen by
  cross-validation on the training split only.
* :class:`ConvTimeNetClassifier`: the pretrained ConvTimeNet body plus a new softmax head, the whole network
  fine-tuned on the training split only (``pretrained=False``: the same architecture from scratch).

Input, for all of them: a 2-D array ``(n, length)`` NaN-padded at the end, aeon's 3-D ``(n, channels, length)``,
or a list of 1-D (or ``(channels, length)``) arrays of different lengths. Multivariate series are embedded
channel by channel with the same network and the embeddings concatenated.
"""

from __future__ import annotations

import weakref

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from tszoo.validation import check_labels, check_series

_MODEL_CACHE: dict = {}
_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _as_3d(X, missing) -> np.ndarray:
    """Validated input as ``(n, channels, longest)``."""
    X = check_series(X, missing=missing)
    return X[:, None, :] if X.ndim == 2 else X


def _lengths(X2: np.ndarray) -> np.ndarray:
    return X2.shape[1] - np.argmax(~np.isnan(X2[:, ::-1]), axis=1)


def compiled(model):
    """``model(x, training=False)`` traced once for any batch and length (TensorFlow), else eager."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return lambda x: np.asarray(model(x, training=False))
    import tensorflow as tf

    fn = _COMPILED.get(model)
    if fn is None:
        # The traced function holds the model weakly, so a fitted-and-dropped model (a grid search fits many)
        # is freed together with its entry here.
        ref = weakref.ref(model)
        fn = tf.function(lambda x: ref()(x, training=False), reduce_retracing=True,
                         input_signature=[tf.TensorSpec([None, None, model.input.shape[-1]], tf.float32)])
        _COMPILED[model] = fn
    return lambda x: fn(x).numpy()


def predict_batched(model, X3: np.ndarray, batch_size: int = 256, progress: bool = False) -> np.ndarray:
    """Run ``model`` on ``(n, time, channels)`` in batches of similar length, each padded only to its own
    longest series, so memory stays bounded and padding costs little. Returns outputs in input order."""
    if X3.shape[0] == 0:
        raise ValueError("no series to run the model on")
    call = compiled(model)
    lengths = X3.shape[1] - np.argmax(~np.isnan(X3[:, ::-1, :]).any(axis=2), axis=1)
    order = np.argsort(lengths, kind="stable")
    outputs = None
    starts = range(0, len(order), batch_size)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="embedding", unit="batch", leave=False)
    for start in starts:
        idx = order[start: start + batch_size]
        out = call(np.ascontiguousarray(X3[idx, : lengths[idx].max()], dtype=np.float32))
        if outputs is None:
            outputs = np.empty((X3.shape[0], *out.shape[1:]), np.float32)
        outputs[idx] = out
    return outputs


def load_cached(name, version=None):
    """Published models are read once per process (they are never changed after loading)."""
    from tszoo.registry import load

    key = (str(name), version)
    if key not in _MODEL_CACHE:
        _MODEL_CACHE[key] = load(name, version)
    return _MODEL_CACHE[key]


def embed(model, X, batch_size: int = 256, missing: str = "raise", progress: bool = False) -> np.ndarray:
    """Embeddings of a collection of series with an embedding model (channels embedded one by one and
    concatenated)."""
    X = _as_3d(X, missing)
    parts = []
    for c in range(X.shape[1]):
        channel = X[:, c, :]
        channel = channel[:, : _lengths(channel).max()]
        parts.append(predict_batched(model, channel[..., None], batch_size, progress))
    return np.concatenate(parts, axis=1)


def embed_stream(model, chunks, batch_size: int = 256, missing: str = "raise"):
    """Embed a collection too large for memory: ``chunks`` yields collections of series (any input form); this
    yields their embeddings chunk by chunk, so memory stays bounded by one chunk whatever the collection's size."""
    for chunk in chunks:
        yield embed(model, chunk, batch_size, missing)


def _timenet_layer_columns(model, layers):
    """Columns of the embedding that belong to the chosen GRU layers (1-based), as in TN-C_L1..L3."""
    if layers is None:
        return None
    grus = [l for l in model.layers if l.name.startswith("encoder_gru_")]
    units = grus[0].units if grus else None
    chosen = [layers] if isinstance(layers, int) else list(layers)
    if not grus or any(not 1 <= int(l) <= len(grus) for l in chosen):
        raise ValueError(f"layers={layers!r}; this model has GRU layers 1..{len(grus)}")
    return np.concatenate([np.arange((int(l) - 1) * units, int(l) * units) for l in chosen])


class TimeNetEmbedder(TransformerMixin, BaseEstimator):
    """Frozen TimeNet embeddings as features.

    Args:
        model: a published model name or a path to a version folder (default ``"timenet"``).
        version: the model version (default: the highest).
        layers: ``None`` for the whole embedding (3 x 60 = 180), or which GRU layers (1-based, an int or a list)
            to keep, as the paper's TN-C_L1..L3.
        batch_size: series per forward pass.
        missing: ``"raise"`` refuses missing values (NaN before a series' end); ``"interpolate"`` fills them.
    """

    def __init__(self, model="timenet", version=None, layers=None, batch_size=256, missing="raise"):
        self.model = model
        self.version = version
        self.layers = layers
        self.batch_size = batch_size
        self.missing = missing

    def fit(self, X, y=None):
        X = _as_3d(X, self.missing)
        self.n_channels_ = X.shape[1]
        network = load_cached(self.model, self.version)
        self.columns_ = _timenet_layer_columns(network, self.layers)
        size = network.output.shape[-1] if self.columns_ is None else len(self.columns_)
        self.n_features_out_ = int(size) * self.n_channels_
        return self

    def transform(self, X):
        check_is_fitted(self, "n_channels_")
        X = _as_3d(X, self.missing)
        if X.shape[1] != self.n_channels_:
            raise ValueError(f"X has {X.shape[1]} channel(s); this embedder was fitted on {self.n_channels_}")
        network = load_cached(self.model, self.version)
        E = embed(network, X, self.batch_size, self.missing)
        if self.columns_ is not None:
            size = network.output.shape[-1]
            E = np.concatenate([E[:, c * size + self.columns_] for c in range(self.n_channels_)], axis=1)
        return E

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "n_features_out_")
        return np.array([f"timenet_{i}" for i in range(self.n_features_out_)], dtype=object)


def default_svm_grid(n_features: int) -> dict:
    return {"svc__C": [1.0, 10.0, 100.0, 1000.0], "svc__gamma": [g / n_features for g in (0.1, 1.0, 10.0)]}


class TimeNetClassifier(ClassifierMixin, BaseEstimator):
    """TN-C: frozen TimeNet embeddings -> standardised -> RBF SVM, C and gamma by cross-validation.

    Args:
        model, version, layers, batch_size, missing: as :class:`TimeNetEmbedder`.
        C, gamma: fix the SVM's parameters; ``None`` (default) chooses each by stratified cross-validation on
            the training data (grid: :func:`default_svm_grid`, or ``param_grid``).
        cv: folds for that search (fewer where a class has fewer series).
        probability: calibrate probabilities (Platt scaling on cross-validated SVM decisions) so that
            :meth:`predict_proba` works; predictions are the SVM's own either way.
        random_state: seeds the folds and the SVM.
        n_jobs: parallel fits in the search.
    """

    def __init__(self, model="timenet", version=None, layers=None, C=None, gamma=None, param_grid=None, cv=5,
                 probability=True, batch_size=256, missing="raise", random_state=None, n_jobs=None):
        self.model = model
        self.version = version
        self.layers = layers
        self.C = C
        self.gamma = gamma
        self.param_grid = param_grid
        self.cv = cv
        self.probability = probability
        self.batch_size = batch_size
        self.missing = missing
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _embedder(self):
        return TimeNetEmbedder(self.model, self.version, self.layers, self.batch_size, self.missing)

    def fit_embeddings(self, E, y):
        """Fit the SVM on precomputed embeddings (the evaluation script reuses them across variants)."""
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.model_selection import GridSearchCV, StratifiedKFold
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.svm import SVC

        E = np.asarray(E, np.float64)
        y = check_labels(y, len(E))
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"y has a single class {self.classes_.tolist()}; a classifier needs at least two")
        self.embedder_ = None
        params = {}
        grid = dict(self.param_grid or default_svm_grid(E.shape[1]))
        if self.C is not None:
            grid["svc__C"] = [self.C]
        if self.gamma is not None:
            grid["svc__gamma"] = [self.gamma]
        folds = int(min(self.cv, np.bincount(codes).min()))
        pipe = make_pipeline(StandardScaler(), SVC(kernel="rbf", random_state=self.random_state))
        if folds >= 2 and sum(len(v) > 1 for v in grid.values()):
            search = GridSearchCV(pipe, grid, cv=StratifiedKFold(folds, shuffle=True, random_state=self.random_state
                                                                 if self.random_state is not None else 0),
                                  refit=False, n_jobs=self.n_jobs)
            search.fit(E, codes)
            params = search.best_params_
            self.cv_score_ = float(search.best_score_)
        else:
            params = {k: v[len(v) // 2] for k, v in grid.items()}
            self.cv_score_ = None
        self.best_params_ = {k.split("__")[1]: v for k, v in params.items()}
        self.scaler_ = StandardScaler().fit(E)
        Z = self.scaler_.transform(E)
        svc = SVC(kernel="rbf", random_state=self.random_state, **self.best_params_)
        self.calibrated_ = None
        if self.probability and folds >= 2:
            # Platt scaling on cross-validated decisions; predictions stay the SVM's own, fitted on all data.
            self.calibrated_ = CalibratedClassifierCV(svc, ensemble=False, cv=folds).fit(Z, codes)
            self.svc_ = self.calibrated_.calibrated_classifiers_[0].estimator
        else:
            self.svc_ = svc.fit(Z, codes)
        return self

    def fit(self, X, y):
        embedder = self._embedder().fit(X)
        self.fit_embeddings(embedder.transform(X), y)
        self.embedder_ = embedder
        return self

    def _embed(self, X):
        check_is_fitted(self, "svc_")
        if self.embedder_ is None:
            raise ValueError("this classifier was fitted on embeddings; call predict_embeddings")
        return self.embedder_.transform(X)

    def predict_embeddings(self, E):
        check_is_fitted(self, "svc_")
        return self.classes_[self.svc_.predict(self.scaler_.transform(np.asarray(E, np.float64)))]

    def predict(self, X):
        return self.predict_embeddings(self._embed(X))

    def predict_proba(self, X):
        E = self._embed(X)
        if self.calibrated_ is None:
            raise AttributeError("predict_proba needs probability=True and at least 2 training series per class")
        return self.calibrated_.predict_proba(self.scaler_.transform(E))

    def decision_function(self, X):
        return self.svc_.decision_function(self.scaler_.transform(self._embed(X)))


class ConvTimeNetClassifier(ClassifierMixin, BaseEstimator):
    """ConvTimeNet fine-tuned on a new dataset: the pretrained body, a new softmax head, the whole network trained.

    Only the training data given to :meth:`fit` is used. Training keeps the weights of the epoch with the lowest
    training loss and halves the learning rate when the loss stops falling (the protocol of the ResNet/FCN
    baselines in Fawaz et al. 2019); with ``validation_fraction`` it instead carves a stratified validation part
    out of the training data and keeps the epoch with the lowest validation loss.

    Args:
        model, version: the published body (default ``"convtimenet"``).
        pretrained: ``False`` trains the same architecture from fresh random weights, for comparison.
        epochs: passes over the training data; ``max_steps`` caps the gradient steps (``None``: no cap).
        batch_size: default ``min(32, max(4, n // 10))``.
        learning_rate: Adam's initial learning rate; default 3e-4 when fine-tuning a pretrained body (a larger
            step washes out the pretrained filters within a few hundred steps) and 1e-3 from scratch.
        head_dropout: dropout on the embedding before the new head.
        validation_fraction: see above (``None``: select on training loss).
        random_state: seeds the head, the shuffling and dropout, so that fits repeat.
        checkpoint_dir: a folder for a checkpoint after every epoch (model, optimizer, dropout seed state, the
            learning-rate schedule, the best epoch so far). A fit that was interrupted, even killed, and is called
            again with the same folder, data and settings continues where it stopped and ends with the same
            weights as an uninterrupted fit. Batches are then drawn as a function of ``(random_state, epoch)``
            rather than by Keras' shuffling, so the result differs from a fit without ``checkpoint_dir``. The
            folder is emptied when the fit completes; one that holds another fit's checkpoint is refused.
        verbose: Keras progress output (0 silent, 1 bar, 2 a line per epoch).
        missing: as the other estimators.
    """

    def __init__(self, model="convtimenet", version=None, pretrained=True, epochs=50, max_steps=None,
                 batch_size=None, learning_rate=None, head_dropout=0.1, validation_fraction=None,
                 batchnorm="adapt", random_state=None, checkpoint_dir=None, verbose=0, missing="raise"):
        self.model = model
        self.version = version
        self.pretrained = pretrained
        self.epochs = epochs
        self.max_steps = max_steps
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.head_dropout = head_dropout
        self.validation_fraction = validation_fraction
        self.batchnorm = batchnorm
        self.random_state = random_state
        self.checkpoint_dir = checkpoint_dir
        self.verbose = verbose
        self.missing = missing

    def _build(self, n_channels, n_classes):
        import keras

        from tszoo.registry import load

        body = load(self.model, self.version)
        if not self.pretrained:
            body = keras.models.clone_model(body)  # same architecture, fresh initial weights
        if self.batchnorm not in ("adapt", "frozen"):
            raise ValueError(f"batchnorm={self.batchnorm!r}; expected 'adapt' or 'frozen'")
        for layer in body.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                if self.batchnorm == "frozen" and self.pretrained:
                    layer.trainable = False  # inference mode: the pretrained statistics, not the batch's
                else:
                    # A short fine-tuning run is a few hundred steps: with Keras' default momentum (0.99) the
                    # moving statistics would still be mostly the old ones when training ends.
                    layer.momentum = 0.9
        series = keras.Input((None, n_channels), name="series")
        if n_channels == 1:
            embedding = body(series)
        else:  # one body shared by every channel; embeddings concatenated
            embedding = keras.layers.Concatenate(name="channels")(
                [body(series[..., c: c + 1]) for c in range(n_channels)])
        if self.head_dropout:
            embedding = keras.layers.Dropout(self.head_dropout, name="head_dropout")(embedding)
        probabilities = keras.layers.Dense(n_classes, activation="softmax", name="probabilities")(embedding)
        return keras.Model(series, probabilities, name=f"{body.name}_classifier")

    def fit(self, X, y, callbacks=None):
        """Fine-tune on ``(X, y)``; ``callbacks``: extra Keras callbacks (e.g. a progress bar)."""
        import keras

        X3 = _as_3d(X, self.missing)
        y = check_labels(y, X3.shape[0])
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"y has a single class {self.classes_.tolist()}; a classifier needs at least two")
        if self.random_state is not None:
            keras.utils.set_random_seed(int(self.random_state))
        self.n_channels_ = X3.shape[1]
        Xt = np.ascontiguousarray(np.transpose(X3, (0, 2, 1)), dtype=np.float32)
        n = len(Xt)
        batch = int(self.batch_size or min(32, max(4, n // 10)))
        val = None
        fit_idx = np.arange(n)
        if self.validation_fraction:
            from sklearn.model_selection import train_test_split

            fit_idx, val_idx = train_test_split(fit_idx, test_size=self.validation_fraction, stratify=codes,
                                                random_state=self.random_state)
            val = (Xt[val_idx], codes[val_idx])
        steps_per_epoch = -(-len(fit_idx) // batch)
        epochs = int(self.epochs)
        if self.max_steps:
            epochs = max(1, min(epochs, int(self.max_steps) // steps_per_epoch))
        self.model_ = self._build(self.n_channels_, len(self.classes_))
        rate = self.learning_rate or (3e-4 if self.pretrained else 1e-3)
        optimizer = keras.optimizers.Adam(rate)
        self.model_.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
        monitor = "val_loss" if val is not None else "loss"
        best = _KeepBest(monitor)
        plateau = keras.callbacks.ReduceLROnPlateau(monitor, factor=0.5, patience=5, min_lr=1e-5)
        if self.checkpoint_dir is None:
            history = self.model_.fit(Xt[fit_idx], codes[fit_idx], batch_size=batch, epochs=epochs,
                                      validation_data=val, callbacks=[plateau, best, *(callbacks or [])],
                                      verbose=self.verbose, shuffle=True)
            records = history.history
        else:
            fingerprint = _fingerprint(Xt, codes, fit_idx, self.get_params(), batch, epochs)
            resumable = _Resumable(self.checkpoint_dir, fingerprint, self.model_, optimizer, plateau, best)
            start, seed, records = resumable.restore(self.random_state)
            data = _EpochBatches(Xt[fit_idx], codes[fit_idx], batch, seed, start)
            history = self.model_.fit(data, epochs=epochs, initial_epoch=start, validation_data=val,
                                      callbacks=[plateau, best, resumable, *(callbacks or [])],
                                      verbose=self.verbose, shuffle=False)  # the batches shuffle themselves
            records = {k: list(records.get(k, [])) + list(v) for k, v in history.history.items()}
            resumable.finish()
        best.restore(self.model_)
        self.history_ = {k: [float(v) for v in vals] for k, vals in records.items()}
        self.epochs_run_ = len(records["loss"])
        return self

    def predict_proba(self, X):
        check_is_fitted(self, "model_")
        X3 = _as_3d(X, self.missing)
        if X3.shape[1] != self.n_channels_:
            raise ValueError(f"X has {X3.shape[1]} channel(s); this classifier was fitted on {self.n_channels_}")
        return predict_batched(self.model_, np.transpose(X3, (0, 2, 1)))

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class _KeepBest:
    """A Keras callback keeping the weights of the epoch with the lowest ``monitor``."""

    def __new__(cls, monitor):
        import keras

        class KeepBest(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.best, self.weights, self.best_epoch = np.inf, None, None

            def on_epoch_end(self, epoch, logs=None):
                value = (logs or {}).get(monitor)
                if value is not None and value < self.best:
                    self.best, self.weights, self.best_epoch = value, self.model.get_weights(), epoch

            def restore(self, model):
                if self.weights is not None:
                    model.set_weights(self.weights)

        return KeepBest()


def _fingerprint(Xt, codes, fit_idx, params, batch, epochs) -> str:
    """What a checkpoint belongs to: the data, the split and the settings of the fit."""
    import hashlib

    digest = hashlib.sha256()
    for part in (np.ascontiguousarray(Xt), np.asarray(codes), np.asarray(fit_idx)):
        digest.update(part.tobytes())
    settings = {k: v for k, v in params.items() if k not in ("verbose", "checkpoint_dir")}
    digest.update(repr((sorted(settings.items(), key=str), batch, epochs)).encode())
    return digest.hexdigest()


def _EpochBatches(x, y, batch, seed, epoch):
    """Batches in an order that is a pure function of ``(seed, epoch)``, so a resumed fit draws the same ones."""
    import keras

    class EpochBatches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.epoch = epoch
            self.order = self._order()

        def _order(self):
            return np.random.default_rng([seed, self.epoch]).permutation(len(x))

        def __len__(self):
            return -(-len(x) // batch)

        def __getitem__(self, i):
            idx = self.order[i * batch: (i + 1) * batch]
            return x[idx], y[idx]

        def on_epoch_end(self):
            self.epoch += 1
            self.order = self._order()

    return EpochBatches()


class _Resumable:
    """A Keras callback that checkpoints a fine-tuning after every epoch and restores it on the next fit.

    ``state.json`` names the checkpoint it goes with and is replaced atomically after the checkpoint is
    written, so a kill at any point leaves a consistent pair (the last one or the one before).
    """

    def __new__(cls, folder, fingerprint, model, optimizer, plateau, keep_best):
        import json
        import shutil
        from pathlib import Path

        import keras
        import tensorflow as tf

        from tszoo.checkpointing import replace_atomically, training_checkpoint

        class Resumable(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.folder = Path(folder)
                self.state_path = self.folder / "state.json"
                self.records: dict = {}
                self.pending_plateau = None
                self.checkpoint = training_checkpoint(model, optimizer)

            def restore(self, random_state):
                """``(epochs done, batch-order seed, history so far)``, after restoring any checkpoint."""
                optimizer.build(model.trainable_variables)
                if not self.state_path.exists():  # a fresh fit, or files left by a kill before the first state.json
                    shutil.rmtree(self.folder / "checkpoints", ignore_errors=True)
                self.manager = tf.train.CheckpointManager(self.checkpoint, str(self.folder / "checkpoints"),
                                                          max_to_keep=2)
                if not self.state_path.exists():
                    seed = int(random_state if random_state is not None
                               else np.random.default_rng().integers(2**31))
                    self.state = {"fingerprint": fingerprint, "seed": seed, "epochs_done": 0}
                    return 0, seed, {}
                state = json.loads(self.state_path.read_text())
                if state.get("fingerprint") != fingerprint:
                    raise ValueError(f"checkpoint_dir {str(self.folder)!r} holds the checkpoint of another fit "
                                     "(different data or settings); give this fit its own folder, or remove "
                                     "that one to discard the other fit's progress")
                self.checkpoint.restore(str(self.folder / "checkpoints" / state["checkpoint"])
                                        ).assert_existing_objects_matched()
                keep_best.best = state["best"]
                if state.get("best_weights"):
                    with np.load(self.folder / state["best_weights"]) as f:
                        keep_best.weights = [f[f"w{i}"] for i in range(len(f.files))]
                self.pending_plateau = state["plateau"]
                self.records = {k: list(v) for k, v in state["history"].items()}
                self.state = state
                return state["epochs_done"], state["seed"], state["history"]

            def on_train_begin(self, logs=None):
                # ReduceLROnPlateau resets its counters when training begins; this callback runs after it.
                if self.pending_plateau:
                    for key, value in self.pending_plateau.items():
                        setattr(plateau, key, value)

            def on_epoch_end(self, epoch, logs=None):
                for key, value in (logs or {}).items():
                    self.records.setdefault(key, []).append(float(value))
                state = dict(self.state, epochs_done=epoch + 1, best=float(keep_best.best),
                             plateau={"best": float(plateau.best), "wait": int(plateau.wait),
                                      "cooldown_counter": int(plateau.cooldown_counter)},
                             history=self.records)
                if keep_best.weights is not None and keep_best.best_epoch == epoch:
                    name = f"best-{epoch + 1}.npz"
                    replace_atomically(self.folder / name, lambda tmp: np.savez(
                        tmp, **{f"w{i}": w for i, w in enumerate(keep_best.weights)}))
                    state["best_weights"] = name
                state["checkpoint"] = Path(self.manager.save(checkpoint_number=epoch + 1)).name
                replace_atomically(self.state_path, lambda tmp: tmp.write_text(json.dumps(state)))
                self.state = state
                for old in self.folder.glob("best-*.npz"):  # keep the one state.json names
                    if old.name != state.get("best_weights"):
                        old.unlink()

            def finish(self):
                """The fit completed: its checkpoint is no longer needed."""
                # state.json first: a kill in here then leaves files that the next fit ignores, never a
                # state.json whose checkpoint is gone.
                self.state_path.unlink(missing_ok=True)
                shutil.rmtree(self.folder / "checkpoints", ignore_errors=True)
                for path in self.folder.glob("best-*.npz"):
                    path.unlink(missing_ok=True)

        callback = Resumable()
        callback.folder.mkdir(parents=True, exist_ok=True)
        return callback
