"""scikit-learn estimators over tszoo's pretrained models.

* :class:`TimeNetEmbedder`: series -> frozen TimeNet embeddings (a transformer).
* :class:`TimeNetClassifier`: TN-C of the TimeNet paper: frozen embeddings -> RBF SVM, C and gamma chosen by
  cross-validation on the training split only.
* :class:`ConvTimeNetClassifier`: the pretrained ConvTimeNet body plus a new softmax head, the whole network
  fine-tuned on the training split only (``pretrained=False``: the same architecture from scratch).
* :class:`ConvTimeNetMiniRocketClassifier`: a combination with a peer: ``ConvTimeNetClassifier`` and aeon's
  MiniRocket, each model's class scores standardised per series and added.

Input, for all of them: a 2-D array ``(n, length)`` NaN-padded at the end, aeon's 3-D ``(n, channels, length)``,
or a list of 1-D (or ``(channels, length)``) arrays of different lengths. Multivariate series are embedded
channel by channel with the same network and the embeddings concatenated.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from tszoo.heads import OUTPUT_NAME
from tszoo.inference import as_3d as _as_3d, embed, load_cached, predict_batched
from tszoo.layers import INPUT_NAME, FirstDifference
from tszoo.precision import bfloat16_hardware, body_in_precision, check_precision, copy_state, resolve_precision
from tszoo.validation import check_labels

DEFAULT_LEARNING_RATE = 3e-3


def _series_tags(estimator, tags):
    """What every tszoo estimator takes: aeon's 3-D arrays and ragged lists besides 2-D arrays; network inference
    is not bit-reproducible across batch compositions and hardware (float32 sums in another order).

    NaN: trailing NaN is always accepted, as padding; a NaN before a series' last value is a missing value,
    refused unless ``missing="interpolate"``, so NaN anywhere (scikit-learn's ``allow_nan``) holds only then.
    """
    tags.input_tags.allow_nan = estimator.missing == "interpolate"
    tags.input_tags.three_d_array = True
    tags.non_deterministic = True
    return tags


def _check_classes(y, n):
    """Encoded labels, refusing what no classifier can learn from."""
    y = check_labels(y, n)
    if n == 1:
        raise ValueError("1 sample (n_samples=1): a classifier needs at least two series, of two classes")
    classes, codes = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(f"y has a single class {classes.tolist()}; a classifier needs at least two")
    return classes, codes


def _timenet_layer_columns(card, layers, pooling="last", inputs="series"):
    """Columns of the features that belong to the chosen GRU layers (1-based), as in TN-C_L1..L3, read from the
    model card's architecture and builder arguments. The features are blocks of ``units x layers`` numbers, one
    per summary of the pooling (``"last+mean"``: the final states, then the time means) and input (the series,
    then its first difference); a layer owns its columns in every block."""
    from tszoo.architectures.timenet import input_parts, pooling_parts
    from tszoo.registry import architecture_of

    if layers is None:
        return None
    if architecture_of(card) != "timenet":
        raise ValueError(f"layers={layers!r} selects TimeNet GRU layers; {card.get('name')!r} is a "
                         f"{architecture_of(card)} model")
    arguments = card["builder"]["arguments"]
    units, num_layers = int(arguments.get("units", 60)), int(arguments.get("num_layers", 3))
    chosen = [layers] if isinstance(layers, int) else list(layers)
    if any(not 1 <= int(l) <= num_layers for l in chosen):
        raise ValueError(f"layers={layers!r}; this model has GRU layers 1..{num_layers}")
    blocks = len(pooling_parts(pooling)) * len(input_parts(inputs))
    return np.sort(np.concatenate([np.arange(b * units * num_layers + (int(l) - 1) * units,
                                             b * units * num_layers + int(l) * units)
                                   for b in range(blocks) for l in chosen]))


_FEATURE_NETWORKS: dict = {}


def _timenet_network(model, version, pooling, inputs="series"):
    """The published encoder (``pooling="last"`` on the series) or the feature model built on it, made once per
    process."""
    from tszoo.architectures.timenet import input_parts, pooling_parts, timenet_features

    pooling_parts(pooling), input_parts(inputs)  # refuse unknown settings before loading anything
    key = (str(model), version, pooling, inputs)  # as load_cached's: published models never change after loading
    if key not in _FEATURE_NETWORKS:
        _FEATURE_NETWORKS[key] = timenet_features(load_cached(model, version), pooling, inputs)
    return _FEATURE_NETWORKS[key]


class TimeNetEmbedder(TransformerMixin, BaseEstimator):
    """Frozen TimeNet embeddings as features.

    Args:
        model: a published model name or a path to a version folder (default ``"timenet"``).
        version: the model version (default: the highest).
        layers: ``None`` for all GRU layers, or which GRU layers (1-based, an int or a list) to keep, as the
            paper's TN-C_L1..L3.
        batch_size: series per forward pass.
        missing: ``"raise"`` refuses missing values (NaN before a series' end); ``"interpolate"`` fills them.
        pooling: what each GRU layer gives: ``"last"`` (default) its state at the series' last valid step, the
            paper's embedding and the published model's output (3 x 60 = 180 numbers); ``"mean"`` its outputs
            averaged over the valid steps (180); ``"last+mean"`` both (360: the final states, then the means).
            ``"last+mean+max"``: then each layer's maxima over the valid steps (540).
            The summaries are computed in Keras from the published encoder's layers
            (:func:`tszoo.architectures.timenet.timenet_features`); exported artifacts give the final states.
        inputs: ``"series"`` (default) or ``"series+diff"``: the same features of the series, then of its first
            difference (``x[t + 1] - x[t]`` over the valid steps, standardised as any input): twice the numbers.
    """

    def __init__(self, model="timenet", version=None, layers=None, batch_size=256, missing="raise",
                 pooling="last", inputs="series"):
        self.model = model
        self.version = version
        self.layers = layers
        self.batch_size = batch_size
        self.missing = missing
        self.pooling = pooling
        self.inputs = inputs

    def fit(self, X, y=None):
        X = _as_3d(X, self.missing)
        self.n_channels_ = X.shape[1]
        from tszoo.registry import info

        network = _timenet_network(self.model, self.version, self.pooling, self.inputs)
        self.columns_ = _timenet_layer_columns(info(self.model, self.version), self.layers, self.pooling,
                                               self.inputs)
        size = network.output.shape[-1] if self.columns_ is None else len(self.columns_)
        self.n_features_out_ = int(size) * self.n_channels_
        return self

    def transform(self, X):
        check_is_fitted(self, "n_channels_")
        X = _as_3d(X, self.missing)
        if X.shape[1] != self.n_channels_:
            raise ValueError(f"X has {X.shape[1]} channel(s); this embedder was fitted on {self.n_channels_}")
        network = _timenet_network(self.model, self.version, self.pooling, self.inputs)
        E = embed(network, X, self.batch_size, self.missing)
        if self.columns_ is not None:
            size = network.output.shape[-1]
            E = np.concatenate([E[:, c * size + self.columns_] for c in range(self.n_channels_)], axis=1)
        return E

    def __sklearn_tags__(self):
        tags = _series_tags(self, super().__sklearn_tags__())
        tags.transformer_tags.preserves_dtype = ["float32"]  # embeddings are float32 whatever the input's dtype
        return tags

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "n_features_out_")
        return np.array([f"timenet_{i}" for i in range(self.n_features_out_)], dtype=object)


GAMMA_FACTORS = (1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0)
C_VALUES = (0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0)


def default_svm_grid(n_features: int) -> dict:
    """The RBF SVM's search grid on standardised embeddings: C from 0.1 to 10^4, gamma from 10^-4 / n_features
    (nearly linear) to 10 / n_features. timenet/1's narrower grid (C 1..1000, gamma 0.1..10 / n) put gamma at its
    smallest value on 8 of 10 datasets: the optimum was below the grid. The grid then ended at 1 / n, and with the
    time-mean features (``pooling="last+mean"``) the training splits' cross-validation put gamma at that largest
    value on 12 of TimeNet's 30 test datasets (no test label read): 10 / n was added (2026-11-25), and the optimum
    sits at an edge for gamma on 1 of 30 (the test errors did not change)."""
    return {"svc__C": list(C_VALUES), "svc__gamma": [g / n_features for g in GAMMA_FACTORS]}


class TimeNetClassifier(ClassifierMixin, BaseEstimator):
    """TN-C: frozen TimeNet features -> standardised -> RBF SVM, C and gamma (and with ``layers="auto"`` the
    layers) by cross-validation.

    Args:
        model, version, batch_size, missing: as :class:`TimeNetEmbedder`.
        pooling: the features, as :class:`TimeNetEmbedder`'s. Default ``"last+mean+max"`` (since 2026-12-07):
            each GRU layer's final state (the paper's embedding), its outputs averaged over the series' valid
            steps and their maxima there. ``"last"`` is the paper's TN-C; ``"last+mean"`` (the default from
            2026-11-25 to 2026-12-07, chosen on TimeNet's 6 validation datasets: with timenet/1 and
            ``layers="auto"`` mean TN-C error 0.156 against 0.199 for the final states alone,
            ``benchmarks/results/tnc_choices_pooling.md``) leaves out the maxima.
        inputs: ``"series+diff"`` (default since 2026-12-07) or ``"series"``: the features of the series, then
            of its first difference (``x[t + 1] - x[t]`` over the valid steps): 3 layers x 60 x 3 poolings x 2
            inputs = 1,080 numbers with timenet/1.
        layers: ``None`` (default since 2026-12-07) keeps all GRU layers; ``"auto"`` chooses by cross-validation
            on the training data between all layers and each layer's part alone (the paper's TN-C and
            TN-C_L1..L3; ties go to all layers; the default until 2026-12-07); an int or a list keeps those GRU
            layers (1-based).
            The three defaults were chosen together on held-out thirds of the 30 TimeNet test datasets' training
            splits (no test split read): against the previous defaults (``"last+mean"`` of the series,
            ``"auto"``) they erred 1.42 points less on the third of split seed 0 (0.1814 against 0.1956; a
            candidate picked after seeing that split) and 0.88 less on the third of split seed 1, the fresh look
            that decided under a rule written beforehand (0.1742 against 0.1831, paired se 0.74; lower on 13,
            higher on 12 of 30), in two thirds of the fitting time (no cross-validation over the layers):
            ``benchmarks/results/tnc_users_default_holdout_s1*.md``. With ``"auto"`` the same features did not
            help (0.1955 against 0.1956 on seed 0's third).
        C, gamma: fix the SVM's parameters; ``None`` (default) chooses each by stratified cross-validation on
            the training data (grid: :func:`default_svm_grid`, or ``param_grid``).
        cv: folds for that search (fewer where a class has fewer series; with a single series in some class no
            search is possible: the whole embedding and the middle of the grid are taken, with a warning).
        probability: calibrate probabilities (Platt scaling on cross-validated SVM decisions) so that
            :meth:`predict_proba` works. :meth:`predict` and :meth:`decision_function` are the SVM's own either
            way, as the paper's TN-C and scikit-learn's ``SVC(probability=True)``: on a few series the most
            probable class can differ from the one predicted. (Until 2026-12-06 ``predict`` took the most
            probable class; on a held-out third of the 30 test datasets' training splits that erred on 0.82
            points more, se 0.47: ``benchmarks/results/tnc_users_default_holdout.md``.) ``False``: no
            calibration (faster), no :meth:`predict_proba`.
        random_state: seeds the folds and the SVM.
        n_jobs: parallel fits in the search.

    After :meth:`fit`: ``layers_`` (the layers used, ``None`` for all), ``best_params_`` (C, gamma),
    ``cv_score_`` (the chosen setting's cross-validated accuracy) and ``cv_results_`` (the best score of each
    layer choice).
    """

    def __init__(self, model="timenet", version=None, layers=None, C=None, gamma=None, param_grid=None, cv=5,
                 probability=True, batch_size=256, missing="raise", random_state=None, n_jobs=None,
                 pooling="last+mean+max", inputs="series+diff"):
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
        self.pooling = pooling
        self.inputs = inputs

    def _embedder(self):
        return TimeNetEmbedder(self.model, self.version, None if self.layers == "auto" else self.layers,
                               self.batch_size, self.missing, self.pooling, self.inputs)

    def _layer_choices(self, width):
        """``[(layers, columns)]`` to choose from; columns index the embedding given to :meth:`fit_embeddings`."""
        if self.layers != "auto":
            return [(self.layers, None)]
        from tszoo.registry import info

        card = info(self.model, self.version)
        num_layers = int(card["builder"]["arguments"].get("num_layers", 3))
        parts = {layer: _timenet_layer_columns(card, layer, self.pooling, self.inputs)
                 for layer in range(1, num_layers + 1)}
        size = sum(len(part) for part in parts.values())
        if width % size:
            raise ValueError(f"layers='auto' needs whole features ({size} numbers per channel with "
                             f"pooling={self.pooling!r}, inputs={self.inputs!r}); got {width} columns: pass "
                             "layers=None to use the columns as they are, or the pooling and inputs they were made "
                             "with")
        channels = width // size
        return [(None, None)] + [(layer, np.concatenate([c * size + part for c in range(channels)]))
                                 for layer, part in parts.items()]

    def fit_embeddings(self, E, y):
        """Fit the SVM on precomputed features (the evaluation scripts reuse them across variants): those of
        ``TimeNetEmbedder(pooling=self.pooling, inputs=self.inputs)``, whose layout ``layers="auto"`` relies on."""
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.model_selection import GridSearchCV, StratifiedKFold
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.svm import SVC

        from tszoo.architectures.timenet import input_parts, pooling_parts

        pooling_parts(self.pooling), input_parts(self.inputs)  # refuse unknown settings
        E = np.asarray(E, np.float64)
        self.classes_, codes = _check_classes(y, len(E))
        self.embedder_ = None
        choices = self._layer_choices(E.shape[1])
        smallest = int(np.bincount(codes).min())
        folds = int(min(self.cv, smallest))
        if folds < 2:
            warnings.warn(f"the smallest class has {smallest} training series: TN-C cannot cross-validate, so it "
                          "uses the whole embedding and the middle of its SVM grid, and predict_proba is "
                          "unavailable (no calibration)", UserWarning, stacklevel=3)
            choices = choices[:1]
        self.cv_results_, best = {}, None
        for layers, columns in choices:
            part = E if columns is None else E[:, columns]
            grid = dict(self.param_grid or default_svm_grid(part.shape[1]))
            if self.C is not None:
                grid["svc__C"] = [self.C]
            if self.gamma is not None:
                grid["svc__gamma"] = [self.gamma]
            pipe = make_pipeline(StandardScaler(), SVC(kernel="rbf", random_state=self.random_state))
            if folds >= 2 and (len(choices) > 1 or any(len(v) > 1 for v in grid.values())):
                split = StratifiedKFold(folds, shuffle=True, random_state=self.random_state
                                        if self.random_state is not None else 0)
                search = GridSearchCV(pipe, grid, cv=split, refit=False, n_jobs=self.n_jobs).fit(part, codes)
                params, score = search.best_params_, float(search.best_score_)
            else:
                params, score = {k: v[len(v) // 2] for k, v in grid.items()}, None
            self.cv_results_["all" if layers is None else str(layers)] = score
            if best is None or (score is not None and score > best[0]):
                best = (score, layers, columns, params, grid)
        self.cv_score_, self.layers_, self.columns_, params, grid = best
        self.best_params_ = {k.split("__")[1]: v for k, v in params.items()}
        self.at_grid_edge_ = sorted(k.split("__")[1] for k, v in params.items()
                                    if len(grid[k]) > 2 and v in (grid[k][0], grid[k][-1]))
        part = self._columns(E)
        self.scaler_ = StandardScaler().fit(part)
        Z = self.scaler_.transform(part)
        svc = SVC(kernel="rbf", random_state=self.random_state, **self.best_params_)
        self.calibrated_ = None
        if self.probability and folds >= 2:
            # Platt scaling on cross-validated decisions of an SVM fitted on all data (ensemble=False); that SVM
            # predicts (as without calibration), the calibration gives predict_proba.
            self.calibrated_ = CalibratedClassifierCV(svc, ensemble=False, cv=folds).fit(Z, codes)
            self.svc_ = self.calibrated_.calibrated_classifiers_[0].estimator
        else:
            self.svc_ = svc.fit(Z, codes)
        return self

    def _columns(self, E):
        E = np.asarray(E, np.float64)
        return E if self.columns_ is None else E[:, self.columns_]

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

    def __sklearn_tags__(self):
        return _series_tags(self, super().__sklearn_tags__())

    def _proba_available(self):
        # unfitted: available (and refused with NotFittedError); fitted: only where calibration was possible
        return self.probability and getattr(self, "calibrated_", True) is not None

    def predict_embeddings(self, E):
        """:meth:`predict` on features of ``TimeNetEmbedder(pooling=self.pooling)``: the SVM's own predictions."""
        check_is_fitted(self, "svc_")
        return self.classes_[self.svc_.predict(self.scaler_.transform(self._columns(E)))]

    def predict_proba_embeddings(self, E):
        """:meth:`predict_proba` on features of ``TimeNetEmbedder(pooling=self.pooling)``."""
        check_is_fitted(self, "svc_")
        if getattr(self, "calibrated_", None) is None:
            raise AttributeError("predict_proba needs probability=True and at least 2 training series per class "
                                 "for its calibration")
        return self.calibrated_.predict_proba(self.scaler_.transform(self._columns(E)))

    def predict(self, X):
        check_is_fitted(self, "svc_")
        return self.predict_embeddings(self._embed(X))

    @available_if(_proba_available)
    def predict_proba(self, X):
        """Platt-calibrated class probabilities (columns in the order of ``classes_``)."""
        check_is_fitted(self, "svc_")
        return self.predict_proba_embeddings(self._embed(X))

    def decision_function(self, X):
        """The SVM's decision values (scikit-learn's ``SVC.decision_function``): they rank the classes as
        :meth:`predict` does."""
        check_is_fitted(self, "svc_")
        return self.svc_.decision_function(self.scaler_.transform(self._columns(self._embed(X))))


class ConvTimeNetClassifier(ClassifierMixin, BaseEstimator):
    """ConvTimeNet fine-tuned on a new dataset: the pretrained body, a new softmax head, the whole network trained.

    Only the training data given to :meth:`fit` is used. The recipe (:mod:`tszoo.finetuning`): batch-norm
    statistics adapted to the training series, the head initialised by a linear probe on the frozen embeddings,
    then the whole network trained with Adam under a linear warm-up and cosine decay, and the weights at the end
    of the schedule kept (with ``validation_fraction``: those of the epoch with the lowest validation loss on a
    stratified part carved out of the training data). Budget: ``min(epochs x batches per epoch, max_steps)``
    gradient steps: by default 100 passes (fewer steps) below 9 training series, 250 steps from 9 up, and 1,000
    steps from 1,000 series up.

    How the defaults were chosen: by cross-validation inside the training splits of target datasets, never on a
    test split (``benchmarks/finetune_recipe_cv.py``; the model card and README give the figures).

    Args:
        model, version: the published body (default ``"convtimenet"``).
        pretrained: ``False`` trains the same architecture from fresh random weights (head initialised at random,
            no statistics to adapt), for comparison.
        epochs: passes over the training data (default 100), capped by ``max_steps`` gradient steps. Chosen on
            training splits only (``benchmarks/results/few_labels_max_steps.md``, 37 targets, k = 1, 2, 5, 10
            series per class, scored on undrawn training series): 100 passes instead of 40 gave the fits on fewer
            than 25 series (the only ones the change touches) 1.0-1.6 points more at k = 1, 2 and 5 (paired,
            standard errors 0.5-0.8) for 24% more fitting time; at k = 10 none.
        max_steps: the cap on gradient steps: an integer, ``None`` (no cap) or ``"auto"`` (default): 250 steps
            below 1,000 training series, 1,000 from there (:func:`tszoo.finetuning.step_cap`; ``max_steps_``
            says which cap a fit ran under). Until 2026-12-07 the default was 250 at every size. Chosen on
            training splits only (``benchmarks/results/step_cap_by_size.md``): on a held-out third of the 41
            targets' training splits, 1,000 steps gained 3.2 points (se 1.8) on the 4 with 1,000 or more series
            to fit on and 1.0 (se 0.65) on the other 37, but 1,000 steps at every size took 2.7x the time (this
            rule 1.3x: what fits issue 11's hour in float32); on a second held-out third (another seed) those 4
            gained again (3.0 points, se 1.3, all four ahead); with 1 to 10 labelled series per class 1,000 steps
            gained nothing for twice the time.
        batch_size: default ``min(32, max(4, n // 10))``.
        learning_rate: Adam's peak learning rate (default 3e-3: the best of 3e-4, 1e-3 and 3e-3 in validation
            inside the training splits of 8 targets, ``benchmarks/results/finetune_recipe_cv.md``; above that grid's
            top, 1e-2 scored 1.86 points lower on all 41 targets' held-out training thirds, se 0.94,
            ``finetune_lr_cv_targets.md``, and 1.86 lower at 1 series per class, +0.52 at 5).
        warmup: the fraction of the steps spent warming the learning rate up linearly (default 0.1).
        head_init: ``"probe"`` (a logistic regression on the frozen embeddings), ``"random"``, or ``"auto"``
            (probe when ``pretrained``).
        batchnorm: ``"adapt"`` (statistics of the training series, then batch statistics while training) or
            ``"frozen"`` (the pretrained statistics throughout; batch norm in inference mode).
        head_dropout: dropout on the embedding before the new head.
        finetune: ``"full"`` (default): the whole network, as above, at every training-set size; ``"head"``: the
            body stays frozen and the head is the linear probe alone (steps 1-2, no gradient steps; well under a
            second to fit instead of 5-60 s). The default was chosen by size, inside target training splits
            (k = 1, 2, 5, 10, 20 series per class, 14 targets, scored on undrawn training series;
            ``benchmarks/results/few_labels_selection.md``): full fine-tuning was ahead at every k, by 3.7 points
            at k = 1 and 5.7 at k = 10 on the mean, so no size switches to the frozen head. ``finetune_`` says
            which ran.
        augment: ``None`` (default) or random changes to each training batch while fine-tuning, names from
            ``"jitter"``, ``"warp"`` (magnitude warping) and ``"crop"`` joined by ``"+"``
            (:func:`tszoo.finetuning.augment_batch`); a pure function of the seed, so fits stay reproducible.
        validation_fraction: see above (``None``: the end of the schedule).
        n_estimators: fine-tune this many networks (seeds ``random_state + i``) and average their probabilities;
            ``model_`` is then one Keras model holding all of them.
        inputs: ``"series+diff"`` (default since 2026-12-07) or ``"series"``: besides each network fine-tuned on
            the series, one fine-tuned (same seed, same recipe, from the same pretrained body) on its first
            difference ``x[t + 1] - x[t]`` over the valid steps (:class:`tszoo.layers.FirstDifference`,
            standardised by the network as any input), as MultiRocket adds the first difference to MiniRocket's
            input; their probabilities are averaged. Twice the networks, twice the fitting time; ``model_`` takes
            the series and computes the difference itself, so its exports do too. ``"series"``: the network on
            the series alone (the default until 2026-12-07), half the time. Chosen on the 41 targets' training
            splits only: on held-out thirds +1.30 points over the series alone (split seed 0, se 0.89; ahead on
            23, behind on 10) and +2.34 (split seed 1, se 0.63; ahead on 25, behind on 5;
            ``benchmarks/results/finetune_diff_cv_targets*.md``); with 1 / 5 series per class (two draws, undrawn
            training series scored) +1.28 / +1.58 (se 0.61 / 0.58; ``few_labels_diff_rest.md``). Series of one
            time step have no difference: there the series network alone is fitted, with a warning.
        precision: ``"float32"`` (default), ``"mixed_bfloat16"``, or ``"auto"`` (bfloat16 where
            :func:`bfloat16_hardware` says this machine has bfloat16 units, else float32; ``precision_`` holds what
            a fit used). ``"mixed_bfloat16"``: full fine-tuning computes the body in bfloat16
            on float32 weights (the input standardisation, the pooling over time and the head stay float32). The
            fitted network is float32 either way (its predictions and exports are those of a float32 network);
            only the training arithmetic changes, so the fit differs from the float32 fit by rounding. Faster on
            CPUs with bfloat16 units (Intel AMX or AVX512-BF16; about 2x on a 2-core AMX CPU, at the same
            accuracy on the 41 targets) and on GPUs from compute capability 8.0; slower elsewhere (a warning says
            so; :func:`bfloat16_hardware`).
        random_state: an int, a ``numpy.random.RandomState`` or ``None``: seeds the head, the batches and
            dropout. A fit is a function of its data, settings and seed alone, whatever ran before it in the
            process, on a given machine and number of threads (TensorFlow's multi-threaded sums add in another
            order with another thread count, which can move a fine-tuned accuracy on a few series by points).
            (Full fine-tuning runs on a compiled network kept from an earlier fit of the same architecture and
            settings when there is one, with the same results and without 4-5 s of tracing;
            :func:`clear_trainers` frees them.)
        checkpoint_dir: a folder for a checkpoint after every epoch (model, optimizer with its schedule position,
            dropout seed state, the best epoch so far). A fit that was interrupted, even killed, and is called
            again with the same folder, data and settings continues where it stopped and ends with the same
            weights as an uninterrupted fit (with or without a folder). The folder is emptied when the fit
            completes; one that holds another fit's checkpoint is refused. Without an int ``random_state`` the
            seed drawn for the fit is kept in the folder (``seed.json``) until it completes, so a resumed fit
            continues with the interrupted fit's seed. With several networks
            (``n_estimators > 1`` or ``inputs="series+diff"``) each has a subfolder (``member_0``,
            ``member_0_diff``, ...) and a finished network is kept there until all are, so a resumed fit takes up
            the network it stopped in and fits no finished one again.
        verbose: Keras progress output (0 silent, 1 bar, 2 a line per epoch).
        missing: as the other estimators.
        l2sp: L2-SP (Li, Grandvalet & Davoine 2018): adds ``l2sp / 2 * ||w - w0||^2`` over the body's trainable
            weights to the loss, ``w0`` the pretrained weights, so that fine-tuning on a few series stays near them
            (the new head is not pulled). Default ``0.0`` (none). Full fine-tuning of a pretrained body only.
        label_smoothing: trains towards ``(1 - e) * one_hot + e / n_classes`` instead of the one-hot label
            (Szegedy et al. 2016). Default ``0.0`` (none: Keras' sparse cross-entropy, unchanged).
            Neither is on by default: with 1 and 5 series per class on the 41 targets' training splits (scored on
            undrawn training series), ``l2sp=0.001`` / ``0.01`` moved the mean by +0.35 / +0.20 points at k = 1
            and +0.05 / +0.05 at k = 5, ``label_smoothing=0.1`` by -0.12 / -0.17: all within their standard
            errors (0.12-0.62; ``benchmarks/results/few_labels_regularisers_rest.md``).
    """

    def __init__(self, model="convtimenet", version=None, pretrained=True, epochs=100, max_steps="auto",
                 batch_size=None, learning_rate=None, warmup=0.1, head_init="auto", batchnorm="adapt",
                 head_dropout=0.1, finetune="full", augment=None, validation_fraction=None, n_estimators=1,
                 precision="float32", random_state=None, checkpoint_dir=None, verbose=0, missing="raise", l2sp=0.0,
                 label_smoothing=0.0, inputs="series+diff"):
        self.model = model
        self.version = version
        self.pretrained = pretrained
        self.epochs = epochs
        self.max_steps = max_steps
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.warmup = warmup
        self.head_init = head_init
        self.batchnorm = batchnorm
        self.head_dropout = head_dropout
        self.finetune = finetune
        self.augment = augment
        self.validation_fraction = validation_fraction
        self.n_estimators = n_estimators
        self.precision = precision
        self.random_state = random_state
        self.checkpoint_dir = checkpoint_dir
        self.verbose = verbose
        self.missing = missing
        self.l2sp = l2sp
        self.label_smoothing = label_smoothing
        self.inputs = inputs

    def _build(self, n_channels, n_classes, seed):
        """``(classifier, embedder, head)``: the body (shared across channels), dropout and a new softmax head."""
        import keras

        from tszoo.heads import classifier
        from tszoo.registry import load

        body = load(self.model, self.version)
        if not self.pretrained:
            body = _fresh_weights(keras.models.clone_model(body), seed)
        for layer in body._flatten_layers(include_self=False):
            if isinstance(layer, keras.layers.BatchNormalization):
                if self.batchnorm == "frozen" and self.pretrained:
                    layer.trainable = False  # inference mode: the pretrained statistics, not the batch's
                else:
                    # A fine-tuning run is a few hundred steps: with Keras' default momentum (0.99) the moving
                    # statistics would still be mostly the starting ones when training ends.
                    layer.momentum = 0.9
        return classifier(body, n_classes, n_channels=n_channels, dropout=self.head_dropout, seed=seed)

    def _check_settings(self):
        from tszoo import finetuning

        if self.batchnorm not in ("adapt", "frozen"):
            raise ValueError(f"batchnorm={self.batchnorm!r}; expected 'adapt' or 'frozen'")
        if self.head_init not in ("auto", "probe", "random"):
            raise ValueError(f"head_init={self.head_init!r}; expected 'auto', 'probe' or 'random'")
        if not 0.0 <= float(self.warmup) < 1.0:
            raise ValueError(f"warmup={self.warmup!r}; expected a fraction of the steps in [0, 1)")
        if self.finetune not in ("full", "head"):
            raise ValueError(f"finetune={self.finetune!r}; expected 'full' or 'head'")
        if self.finetune == "head" and not self.pretrained:
            raise ValueError("finetune='head' trains a linear head on a frozen PRETRAINED body; pretrained=False "
                             "has nothing to freeze")
        finetuning.parse_augment(self.augment)
        finetuning.step_cap(self.max_steps, 1)
        if int(self.n_estimators) < 1:
            raise ValueError(f"n_estimators={self.n_estimators!r}; expected an integer >= 1")
        check_precision(self.precision)
        if self.precision == "mixed_bfloat16" and self.finetune == "full" and bfloat16_hardware() is False:
            warnings.warn("precision='mixed_bfloat16' without bfloat16 units (a CPU without AVX512-BF16 or AMX, "
                          "or a GPU below compute capability 8.0): fine-tuning is slower than in float32 (1.4x "
                          "slower on an AVX-512 CPU without them); precision='float32' is faster here", UserWarning,
                          stacklevel=3)
        if isinstance(self.l2sp, bool) or not isinstance(self.l2sp, (int, float, np.integer, np.floating)) or not (
                np.isfinite(self.l2sp) and self.l2sp >= 0):
            raise ValueError(f"l2sp={self.l2sp!r}; expected a strength >= 0 (0: no pull towards the pretrained "
                             "weights)")
        if self.l2sp and (not self.pretrained or self.finetune != "full"):
            raise ValueError(f"l2sp={self.l2sp!r} pulls a fully fine-tuned body towards its PRETRAINED weights; it "
                             f"needs pretrained=True and finetune='full' (got pretrained={self.pretrained!r}, "
                             f"finetune={self.finetune!r})")
        if isinstance(self.label_smoothing, bool) or not isinstance(
                self.label_smoothing, (int, float, np.integer, np.floating)) or not 0 <= self.label_smoothing < 1:
            raise ValueError(f"label_smoothing={self.label_smoothing!r}; expected a fraction in [0, 1)")
        from tszoo.architectures.timenet import INPUTS

        if self.inputs not in INPUTS:  # the same inputs as TimeNet's features
            raise ValueError(f"inputs={self.inputs!r}; expected 'series' or 'series+diff'")

    def fit(self, X, y, callbacks=None):
        """Fine-tune on ``(X, y)``; ``callbacks``: extra Keras callbacks (e.g. a progress bar)."""
        import keras

        self._check_settings()
        X3 = _as_3d(X, self.missing)
        self.classes_, codes = _check_classes(y, X3.shape[0])
        seed = _fit_seed(self.random_state, self.checkpoint_dir)
        self.n_channels_ = X3.shape[1]
        self.finetune_ = self.finetune
        self.precision_ = resolve_precision(self.precision)
        Xt = np.ascontiguousarray(np.transpose(X3, (0, 2, 1)), dtype=np.float32)
        sources = self.inputs.split("+")
        if "diff" in sources and X3.shape[2] < 2:
            warnings.warn(f"inputs={self.inputs!r}: series of {X3.shape[2]} time step have no first difference; "
                          "fine-tuning the network on the series alone (inputs='series')", UserWarning, stacklevel=2)
            sources = ["series"]
        networks = [(member, source) for member in range(int(self.n_estimators)) for source in sources]
        folders = _network_folders(self.checkpoint_dir, networks)
        members, histories = [], []
        for (member, source), folder in zip(networks, folders):
            given = Xt if source == "series" else first_difference(Xt)
            finished = None
            if folder is not None and len(networks) > 1:
                finished = _FinishedNetwork(folder, _fingerprint(given, codes, np.arange(len(codes)), {
                    **self.get_params(), "random_state": seed, "precision": self.precision_,
                    "network": (member, source)}, 0, 0))
            fitted = finished.load(lambda: self._build(self.n_channels_, len(self.classes_), seed + member)[0]) \
                if finished is not None else None
            if fitted is None:
                fitted = self._fit_one(given, codes.astype(np.int32), seed + member, callbacks, folder)
                if finished is not None:
                    finished.save(*fitted)
            members.append((source, member, fitted[0]))
            histories.append(fitted[1])
        if len(networks) > 1 and self.checkpoint_dir is not None:
            for folder in folders:  # every network is fitted: their records go, as a single fit's checkpoint does
                _FinishedNetwork.remove(folder)
        _forget_fit_seed(self.checkpoint_dir)
        if len(members) == 1:
            self.model_ = members[0][2]
        else:
            series = keras.Input((None, self.n_channels_), name=INPUT_NAME)
            difference = FirstDifference(name="first_difference")(series) if "diff" in sources else None
            outputs = []
            for source, i, m in members:  # member_i: the network of seed random_state + i; _diff: on the difference
                net = keras.Model(m.inputs, m.outputs[0], name=f"member_{i}" + ("_diff" if source == "diff" else ""))
                outputs.append(net(series if source == "series" else difference))
            averaged = keras.layers.Average(name=OUTPUT_NAME)(outputs)
            self.model_ = keras.Model(series, averaged, name="convtimenet_ensemble")
        self.history_ = histories[0]
        self.epochs_run_ = len(histories[0]["loss"])
        return self

    def _fit_one(self, Xt, codes, seed, callbacks, checkpoint=None):
        from tszoo import finetuning

        n = len(Xt)
        batch = int(self.batch_size or finetuning.default_batch_size(n))
        val = None
        fit_idx = np.arange(n)
        if self.validation_fraction and self.finetune_ == "full":
            from sklearn.model_selection import train_test_split

            n_val = int(np.ceil(self.validation_fraction * n))
            n_classes = len(self.classes_)
            if np.bincount(codes).min() < 2 or n_val < n_classes or n - n_val < n_classes:
                warnings.warn(f"validation_fraction={self.validation_fraction} needs at least 2 training series "
                              f"per class and room for every class on both sides ({n} series, {n_classes} "
                              "classes): training on all of them and keeping the end of the schedule instead",
                              UserWarning, stacklevel=3)
            else:
                fit_idx, val_idx = train_test_split(fit_idx, test_size=self.validation_fraction, stratify=codes,
                                                    random_state=seed)
                val = (Xt[val_idx], codes[val_idx])
        epochs, per_epoch = finetuning.budget(len(fit_idx), batch, self.epochs, self.max_steps)
        self.max_steps_ = finetuning.step_cap(self.max_steps, len(fit_idx))
        model, embedder, head = self._build(self.n_channels_, len(self.classes_), seed)
        if self.pretrained and self.batchnorm == "adapt":
            finetuning.adapt_batchnorm(embedder, Xt[fit_idx])
        # Full fine-tuning runs on a network of the same architecture kept from an earlier fit in this process,
        # when there is one: the new network's state (weights, statistics, seeds) is copied into it, its optimizer
        # and schedule are reset, and the result is copied back. Tracing a new network's train step costs 4-5 s,
        # most of a fit on a few series; the numbers are those of a fit on the new network itself (tested).
        shapes = (batch, len(fit_idx) % batch, Xt.shape[1], 0 if val is None else len(val[1]))
        trainer = _trainers.take(self, len(self.classes_), model, shapes) if self.finetune_ == "full" else None
        try:
            # In mixed precision the training runs on a bfloat16 copy (a kept one, or made now) whose float32
            # weights are copied back at the end: the fitted network, its predictions and exports are float32.
            run = (model, embedder, head)
            if trainer is not None:
                run = trainer.load(model)
            elif self.precision_ != "float32" and self.finetune_ == "full":
                run = in_precision(run, self.precision_, self.n_channels_, self.head_dropout)
            if self.l2sp and self.finetune_ == "full":
                finetuning.pull_body_towards_start(run[0], self.l2sp)  # before the first step: the anchors are
                # the pretrained weights
            if self.head_init == "probe" or (self.head_init == "auto" and self.pretrained) or self.finetune_ == "head":
                embeddings = predict_batched(run[1], Xt[fit_idx])
                run[2].set_weights(list(finetuning.probe_head(embeddings, codes[fit_idx], len(self.classes_), seed)))
            if self.finetune_ == "head":
                return model, {"loss": []}
            history = self._train(run[0], trainer, Xt, codes, fit_idx, val, batch, epochs, per_epoch, seed,
                                  callbacks, checkpoint)
            if trainer is None:  # a kept network keeps its pulls for the next fit; the fitted network has none
                finetuning.release_body(run[0])
            if run[0] is not model:
                copy_state(run[0], model)
            return model, history
        finally:
            if trainer is not None:
                _trainers.give_back(trainer)

    def _train(self, model, trainer, Xt, codes, fit_idx, val, batch, epochs, per_epoch, seed, callbacks,
               checkpoint=None):
        import keras

        from tszoo import finetuning

        rate = float(self.learning_rate or DEFAULT_LEARNING_RATE)
        steps = epochs * per_epoch
        if trainer is None:
            if keras.backend.backend() == "tensorflow":
                # the kept networks' schedule on every TensorFlow path, so that a fit on a new network, with or
                # without checkpoints, computes exactly what a fit on a kept one does (cosine_schedule's
                # constants let graph optimisation round a rate 1 ulp apart)
                schedule = finetuning.ResettableCosine(0.0)
                schedule.reset(rate, steps, round(self.warmup * steps))
            else:
                schedule = finetuning.cosine_schedule(rate, steps, round(self.warmup * steps), 0.0)
            optimizer = keras.optimizers.Adam(schedule)
            model.compile(optimizer, finetuning.classification_loss(self.label_smoothing, len(self.classes_)),
                          metrics=["accuracy"])
            # the optimizer's slots made before the first step rather than inside its trace: the same weights,
            # and a small fit 1.5-2 s faster (SwedishLeaf, 75 series: 15.3 -> 13.5 s on one CPU thread)
            optimizer.build(model.trainable_variables)
        else:
            optimizer = trainer.reset(rate, steps, round(self.warmup * steps))
        keep = finetuning.KeepBest("val_loss") if val is not None else None
        data = finetuning.EpochBatches(Xt[fit_idx], codes[fit_idx], batch, per_epoch, seed, augment=self.augment)
        extra = [keep] if keep is not None else []
        resumable, start, records = None, 0, {}
        if checkpoint is not None:
            fingerprint = _fingerprint(Xt, codes, fit_idx, {**self.get_params(), "random_state": seed,
                                                            "precision": self.precision_}, batch, epochs)
            resumable = finetuning.Resumable(checkpoint, fingerprint, model, optimizer, keep)
            start, records = resumable.restore()
            data = finetuning.EpochBatches(Xt[fit_idx], codes[fit_idx], batch, per_epoch, seed, epoch=start,
                                           augment=self.augment)
            extra.append(resumable)
        steps_per_epoch = None
        if keras.backend.backend() == "tensorflow" and not data.augment:
            data, steps_per_epoch = data.tf_dataset(epochs - start), per_epoch  # the same batches, faster
        history = model.fit(data, epochs=epochs, initial_epoch=start, steps_per_epoch=steps_per_epoch,
                            validation_data=val,
                            callbacks=[*extra, *(callbacks or [])], verbose=self.verbose, shuffle=False)
        records = {k: list(records.get(k, [])) + list(v) for k, v in history.history.items()}
        if resumable is not None:
            resumable.finish()
        if keep is not None:
            keep.restore(model)
        return {k: [float(v) for v in vals] for k, vals in records.items()}

    def __sklearn_tags__(self):
        return _series_tags(self, super().__sklearn_tags__())

    def predict_proba(self, X):
        check_is_fitted(self, "model_")
        X3 = _as_3d(X, self.missing)
        if X3.shape[1] != self.n_channels_:
            raise ValueError(f"X has {X3.shape[1]} channel(s); this classifier was fitted on {self.n_channels_}")
        return predict_batched(self.model_, np.transpose(X3, (0, 2, 1)))

    def predict(self, X):
        check_is_fitted(self, "model_")
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]



def first_difference(Xt: np.ndarray) -> np.ndarray:
    """``(n, time)`` or ``(n, time, channels)`` NaN-padded series -> their first differences over the valid steps,
    NaN-padded, the time axis kept: what :class:`tszoo.layers.FirstDifference` computes, in NumPy."""
    out = np.full_like(Xt, np.nan)
    out[:, :-1] = Xt[:, 1:] - Xt[:, :-1]
    return out


def _standardised(scores: np.ndarray) -> np.ndarray:
    """Each row's scores less their mean, over their standard deviation (a constant row: its deviations)."""
    spread = scores.std(axis=1, keepdims=True)
    return (scores - scores.mean(axis=1, keepdims=True)) / np.where(spread > 0, spread, 1.0)


def combine_scores(probabilities, decision) -> tuple[np.ndarray, np.ndarray]:
    """``(sums, predicted)`` of :class:`ConvTimeNetMiniRocketClassifier`'s rule for one batch of series.

    ``probabilities``: ConvTimeNet's ``(n, classes)``; ``decision``: MiniRocket's ridge decision values,
    ``(n, classes)``, or ``(n,)`` for two classes (read as ``[-d, d]``). Each model's class scores on a series
    (ConvTimeNet's log-probabilities) are standardised across the classes and added; ``predicted`` holds the
    column with the largest sum, and among columns tied for it the one ConvTimeNet rates highest.
    """
    log_p = np.log(np.asarray(probabilities, np.float64) + 1e-6)
    decision = np.asarray(decision, np.float64)
    if decision.ndim == 1:
        decision = np.stack([-decision, decision], axis=1)
    if decision.shape != log_p.shape:
        raise ValueError(f"ConvTimeNet's scores have shape {log_p.shape} and MiniRocket's {decision.shape}; "
                         "expected one score per series and class from both")
    total = _standardised(log_p) + _standardised(decision)
    tied = np.isclose(total, total.max(axis=1, keepdims=True), rtol=0, atol=1e-9)
    return total, np.argmax(np.where(tied, log_p, -np.inf), axis=1)


class ConvTimeNetMiniRocketClassifier(ClassifierMixin, BaseEstimator):
    """Fine-tuned ConvTimeNet combined with aeon's MiniRocket: a combination with a peer, not ConvTimeNet alone.

    Both are fitted on the same training data: a :class:`ConvTimeNetClassifier` (``convtimenet``, default
    ``ConvTimeNetClassifier()``) and aeon's ``MiniRocketClassifier`` (its defaults). For a series, each model's
    class scores (ConvTimeNet's log-probabilities, MiniRocket's ridge decision values) are standardised across the
    classes, so that neither model's scale decides, and added; the class with the largest sum is predicted, and on
    a tie, ConvTimeNet's class. With two classes both standardised profiles are +-1, so the combination is exactly
    ConvTimeNet's answer: it differs from the network alone only with three classes or more.

    Why it exists, and what it buys (``benchmarks/results/few_labels_combination_v2_epochs100.md``): with k = 1 or
    5 labelled series per class on the 41 target datasets (5 draws), convtimenet/2 + MiniRocket scored 0.542 /
    0.698, against 0.533 / 0.689 for MiniRocket alone and 0.519 / 0.678 for the network alone. The rule was
    chosen among nine on training splits only (``few_labels_combination_rest.md``). Its fit costs a fine-tuning
    plus a MiniRocket fit (seconds). With full training splits it does not pay: on the 41 targets (seed 0) it
    scored 0.841 against its MiniRocket part's 0.845 and its network part's 0.821
    (``benchmarks/results/convtimenet2_targets_finetuned_minirocket.md``); use it when labels are few.

    Args:
        convtimenet: an unfitted :class:`ConvTimeNetClassifier` with the settings wanted (default: its defaults);
            it is cloned, and ``random_state`` replaces its own seed.
        n_jobs: MiniRocket's threads.
        random_state: an int, a ``numpy.random.RandomState`` or ``None``: one seed for both models.
        missing: as the other estimators.

    MiniRocket needs series of one length: a NaN-padded or ragged collection is refused (``ConvTimeNetClassifier``
    alone takes it). Series shorter than MiniRocket's 9 values reach it with their last value repeated (the network
    sees them as they are). There is no ``predict_proba``: the sums are not probabilities. :meth:`scores` gives each model's scores; ``convtimenet_`` and ``minirocket_`` are the
    fitted models.
    """

    def __init__(self, convtimenet=None, n_jobs=1, random_state=None, missing="raise"):
        self.convtimenet = convtimenet
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.missing = missing

    def _rocket_input(self, X):
        X3 = _as_3d(X, self.missing)
        if np.isnan(X3).any():
            raise ValueError("MiniRocket needs series of one length without NaN; this collection is NaN-padded "
                             "(series of different lengths). Use ConvTimeNetClassifier alone for it, or give "
                             "series of one length")
        if X3.shape[2] < 9:  # MiniRocket's shortest; its series (not the network's) repeat their last value
            X3 = np.pad(X3, ((0, 0), (0, 0), (0, 9 - X3.shape[2])), mode="edge")
        return X3.astype(np.float64)

    def fit(self, X, y):
        from aeon.classification.convolution_based import MiniRocketClassifier
        from sklearn.base import clone

        if self.convtimenet is not None and not isinstance(self.convtimenet, ConvTimeNetClassifier):
            raise TypeError(f"convtimenet={self.convtimenet!r}; expected an unfitted ConvTimeNetClassifier "
                            "(or None for its defaults)")
        if self.convtimenet is not None and self.convtimenet.missing != self.missing:
            raise ValueError(f"convtimenet.missing={self.convtimenet.missing!r} but missing={self.missing!r}; "
                             "set the same on both")
        X3 = self._rocket_input(X)
        self.classes_, codes = _check_classes(y, X3.shape[0])
        network = ConvTimeNetClassifier(missing=self.missing) if self.convtimenet is None else clone(self.convtimenet)
        seed = _fit_seed(self.random_state, network.checkpoint_dir)  # kept there until the fit ends, as the network's
        self.convtimenet_ = network.set_params(random_state=seed).fit(X3, y)
        # MiniRocket learns the class indices (the order of classes_), whatever type the labels have
        self.minirocket_ = MiniRocketClassifier(n_jobs=self.n_jobs, random_state=seed).fit(X3, codes)
        _forget_fit_seed(network.checkpoint_dir)
        if not (np.array_equal(self.convtimenet_.classes_, self.classes_)
                and np.array_equal(self.minirocket_.classes_, np.arange(len(self.classes_)))):
            raise RuntimeError("ConvTimeNet and MiniRocket ordered the classes differently")  # not expected
        self.n_channels_ = X3.shape[1]
        return self

    def scores(self, X) -> tuple[np.ndarray, np.ndarray]:
        """``(probabilities, decision)``: ConvTimeNet's class probabilities ``(n, classes)`` and MiniRocket's ridge
        decision values (``(n, classes)``; ``(n,)`` with two classes), the inputs of the combination."""
        check_is_fitted(self, "minirocket_")
        X3 = self._rocket_input(X)
        return self.convtimenet_.predict_proba(X3), self.minirocket_.pipeline_.decision_function(X3)

    def predict(self, X):
        predicted = combine_scores(*self.scores(X))[1]
        return self.classes_[predicted]

    def __sklearn_tags__(self):
        tags = _series_tags(self, super().__sklearn_tags__())
        tags.input_tags.allow_nan = False  # MiniRocket: series of one length, no padding
        return tags


def in_precision(built, precision: str, n_channels: int, dropout: float):
    """A copy of the classifier ``built`` (``(classifier, embedder, head)``, from :func:`tszoo.heads.classifier`)
    whose body computes in ``precision`` (:func:`tszoo.precision.body_in_precision`), with the same variables'
    values (weights, statistics, dropout seeds) and the same structure and names. The head stays float32, so the
    probabilities are float32."""
    from tszoo import finetuning
    from tszoo.heads import classifier

    model, _, head = built
    body = finetuning.body_of(model)
    twin = classifier(body_in_precision(body, precision), head.units, n_channels=n_channels,
                      dropout=dropout, name=model.name)
    copy_state(model, twin[0])
    return twin


def _architecture(model):
    """What makes two networks interchangeable for a traced train step: each layer's class, name, trainable flag
    and configuration (kernel sizes, dropout rate, batch-norm momentum, ...; not its seeds) and each
    variable's shape and dtype, as a hash. ``None`` when a layer cannot describe itself."""
    import hashlib
    import json

    parts = []
    try:
        for layer in model._flatten_layers(include_self=True):
            config = {} if hasattr(layer, "layers") else _without_seeds(layer.get_config())
            parts.append([type(layer).__name__, layer.name, bool(layer.trainable),
                          json.dumps(config, sort_keys=True, default=repr)])
    except NotImplementedError:
        return None
    # variables in order, by shape and kind (their paths hold counters, e.g. seed_generator_3)
    parts.append([[list(v.shape), str(v.dtype), bool(v.trainable)] for v in model.variables])
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _without_seeds(config):
    """A layer's configuration less its seeds (its initializers' and its own): the weights they drew and the
    state of a dropout seed are variables, copied with the rest."""
    if isinstance(config, dict):
        return {k: _without_seeds(v) for k, v in config.items() if k != "seed"}
    if isinstance(config, (list, tuple)):
        return [_without_seeds(v) for v in config]
    return config


class _Trainer:
    """A compiled fine-tuning network (classifier, embedder, head) whose traced train step is reused."""

    def __init__(self, built, final_fraction: float = 0.0, loss="sparse_categorical_crossentropy"):
        import keras

        from tszoo import finetuning

        self.model, self.embedder, self.head = built
        self.schedule = finetuning.ResettableCosine(final_fraction)
        self.optimizer = keras.optimizers.Adam(self.schedule)
        self.model.compile(self.optimizer, loss, metrics=["accuracy"])
        self.optimizer.build(self.model.trainable_variables)

    def load(self, model):
        copy_state(model, self.model)
        return self.model, self.embedder, self.head

    def reset(self, learning_rate, total_steps, warmup_steps):
        """The optimizer as a new one: zero slots, step 0, this fit's schedule."""
        self.schedule.reset(learning_rate, total_steps, warmup_steps)
        for v in self.optimizer.variables:
            v.assign(np.zeros(v.shape, dtype=v.dtype))
        return self.optimizer


class _TrainerCache:
    """At most ``size`` trainers per process, one per architecture and setting (least recently used dropped).
    A trainer serves one fit at a time; a fit that finds its trainer busy (another thread) builds its own."""

    def __init__(self, size: int = 4):
        import threading

        self.size, self.lock, self.idle, self.order = size, threading.Lock(), {}, []

    def key(self, estimator, model, shapes):
        import keras

        if keras.backend.backend() != "tensorflow" or estimator.checkpoint_dir is not None:
            return None  # JAX: the schedule's variables would be traced as constants; checkpoints: kept simple
        return (_architecture(model), estimator.precision_, shapes, float(estimator.l2sp),
                float(estimator.label_smoothing))

    def take(self, estimator, n_classes, model, shapes):
        """A trainer whose network is built exactly like ``model`` (every layer's class, name and settings and
        every variable's shape) and was traced on the batches this fit feeds (``shapes``: batch size, the last
        batch's, series length, validation series) in the estimator's ``precision`` (``model`` is the float32
        network; a mixed-precision trainer is its bfloat16 copy), or ``None`` where none can serve. The key is the
        network itself, not the estimator's ``model`` name, which may mean another model after the registry
        changes. The shapes count because a step traced on other shapes (TensorFlow relaxes a retraced step to
        any shape) computes in another order: 1e-13 after one step, and an unstable fine-tuning amplifies that
        (Wine, convtimenet/2, seed 0: 0.889 alone, 0.685 on a network kept from ECGFiveDays before this key)."""
        key = self.key(estimator, model, shapes)
        if key is None:
            return None
        with self.lock:
            trainer = self.idle.pop(key, None)
        if trainer is None:
            built = estimator._build(estimator.n_channels_, n_classes, 0)
            if _architecture(built[0]) != key[0]:
                return None  # the name now resolves to another network than the one being fitted: no reuse
            if estimator.precision_ != "float32":
                built = in_precision(built, estimator.precision_, estimator.n_channels_, estimator.head_dropout)
            from tszoo.finetuning import classification_loss

            trainer = _Trainer(built, loss=classification_loss(estimator.label_smoothing, n_classes))
        trainer.cache_key = key
        return trainer

    def give_back(self, trainer):
        with self.lock:
            self.idle[trainer.cache_key] = trainer
            self.order = [k for k in self.order if k != trainer.cache_key] + [trainer.cache_key]
            while len(self.order) > self.size:
                self.idle.pop(self.order.pop(0), None)

    def clear(self):
        with self.lock:
            self.idle, self.order = {}, []


_trainers = _TrainerCache()


def clear_trainers() -> None:
    """Drop the compiled fine-tuning networks this process keeps for reuse (see ``ConvTimeNetClassifier.fit``)."""
    _trainers.clear()


def _fresh_weights(model, seed: int):
    """Draw every kernel of ``model`` anew from its initializer, seeded (no global random state is touched)."""
    for i, layer in enumerate(model._flatten_layers(include_self=False)):
        init = getattr(layer, "kernel_initializer", None)
        if init is not None and getattr(layer, "kernel", None) is not None:
            fresh = init.__class__.from_config({**init.get_config(), "seed": seed + i})
            layer.kernel.assign(fresh(layer.kernel.shape, dtype=layer.kernel.dtype))
    return model


SEED_RECORD = "seed.json"


def _fit_seed(random_state, checkpoint_dir) -> int:
    """The seed of a fit: ``random_state`` itself when it is an int; otherwise drawn from it (``None``: fresh
    entropy), and with a ``checkpoint_dir`` the drawn seed is kept there (``seed.json``, written before any
    checkpoint) and read back by a resumed fit, so that the resumed fit is the interrupted one and not a fit with
    another seed that happens to match its checkpoint's settings."""
    import json
    from pathlib import Path

    from sklearn.utils import check_random_state

    from tszoo.checkpointing import replace_atomically

    if isinstance(random_state, (int, np.integer)):
        return int(random_state)
    record = Path(checkpoint_dir) / SEED_RECORD if checkpoint_dir is not None else None
    if record is not None and record.exists():
        try:
            return int(json.loads(record.read_text())["seed"])
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{str(record)!r} should hold the seed an interrupted fit drew ({{\"seed\": <int>}}) "
                             f"but could not be read ({error}); remove it to start a fit with a new seed") from None
    seed = int(check_random_state(random_state).randint(2**31 - 1))
    if record is not None:
        record.parent.mkdir(parents=True, exist_ok=True)
        replace_atomically(record, lambda tmp: tmp.write_text(json.dumps({"seed": seed})))
    return seed


def _forget_fit_seed(checkpoint_dir) -> None:
    """A finished fit's drawn seed goes with its checkpoints (the next fit in the folder draws its own)."""
    from pathlib import Path

    if checkpoint_dir is not None:
        (Path(checkpoint_dir) / SEED_RECORD).unlink(missing_ok=True)


def _network_folders(checkpoint_dir, networks) -> list:
    """Where each network of a fit keeps its checkpoint: ``checkpoint_dir`` itself for a single network (as before
    ensembles could be checkpointed), else one subfolder per network, ``member_<i>`` (``member_<i>_diff`` for the
    network on the first difference), the names of the networks inside ``model_``."""
    if checkpoint_dir is None:
        return [None] * len(networks)
    from pathlib import Path

    if len(networks) == 1:
        return [Path(checkpoint_dir)]
    return [Path(checkpoint_dir) / (f"member_{i}" + ("_diff" if source == "diff" else "")) for i, source in networks]


class _FinishedNetwork:
    """A fitted network of an ensemble, kept in its checkpoint folder until the whole ensemble is fitted, so that
    a fit interrupted at a later network does not fit this one again. ``finished.json`` (written atomically after
    the weights) names the fit it belongs to (``fingerprint``); one of another fit is refused, as a checkpoint is."""

    def __init__(self, folder, fingerprint: str):
        self.folder, self.fingerprint = folder, fingerprint
        self.record = folder / "finished.json"

    def load(self, build):
        """``(model, history)`` of the finished network, its model from ``build()``; ``None`` if not finished."""
        import json

        if not self.record.exists():
            return None
        record = json.loads(self.record.read_text())
        if record.get("fingerprint") != self.fingerprint:
            raise ValueError(f"checkpoint_dir {str(self.folder.parent)!r} holds the checkpoint of another fit "
                             "(different data or settings); give this fit its own folder, or remove that one to "
                             "discard the other fit's progress")
        model = build()
        model.load_weights(self.folder / "finished.weights.h5")
        return model, record["history"]

    def save(self, model, history) -> None:
        import json

        from tszoo.checkpointing import replace_atomically

        self.folder.mkdir(parents=True, exist_ok=True)
        replace_atomically(self.folder / "finished.weights.h5", model.save_weights)
        replace_atomically(self.record, lambda tmp: tmp.write_text(json.dumps(
            {"fingerprint": self.fingerprint, "history": history})))

    @staticmethod
    def remove(folder) -> None:
        """The record first: a kill in here leaves weights that the next fit ignores, never a record without them."""
        import shutil

        (folder / "finished.json").unlink(missing_ok=True)
        shutil.rmtree(folder, ignore_errors=True)


def _fingerprint(Xt, codes, fit_idx, params, batch, epochs) -> str:
    """What a checkpoint belongs to: the data, the split and the settings of the fit."""
    import hashlib

    digest = hashlib.sha256()
    for part in (np.ascontiguousarray(Xt), np.asarray(codes), np.asarray(fit_idx)):
        digest.update(part.tobytes())
    settings = {k: v for k, v in params.items() if k not in ("verbose", "checkpoint_dir")}
    if settings.get("precision") == "float32":
        settings.pop("precision")  # a float32 fit's checkpoint from before the setting existed still resumes
    digest.update(repr((sorted(settings.items(), key=str), batch, epochs)).encode())
    return digest.hexdigest()
