import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.linear_model import LogisticRegression

from tszoo.datasets import load_ucr
from tszoo.estimators import ConvTimeNetClassifier, TimeNetClassifier, TimeNetEmbedder


@pytest.fixture(scope="module")
def gunpoint():
    X, y = load_ucr("GunPoint", "train")
    Xt, yt = load_ucr("GunPoint", "test")
    return X, y, Xt[:60], yt[:60]


def test_embedder_shapes_layers_and_input_forms(tiny_models, gunpoint):
    X, *_ = gunpoint
    emb = TimeNetEmbedder(model=str(tiny_models["timenet"]))
    E = emb.fit(X[:10]).transform(X[:10])
    assert E.shape == (10, 24)
    # a list of different lengths gives the same rows as the NaN-padded array
    as_list = [X[0], X[1, :100]]
    padded = np.full((2, 150), np.nan, np.float32)
    padded[0], padded[1, :100] = X[0], X[1, :100]
    np.testing.assert_allclose(emb.transform(as_list), emb.transform(padded), atol=1e-5)
    # aeon 3-D multivariate: channels embedded one by one, concatenated
    multi = np.stack([X[:5], X[5:10]], axis=1)
    E3 = TimeNetEmbedder(model=str(tiny_models["timenet"])).fit(multi).transform(multi)
    assert E3.shape == (5, 48)
    np.testing.assert_allclose(E3[:, 24:], E[5:10], atol=1e-5)
    layer2 = TimeNetEmbedder(model=str(tiny_models["timenet"]), layers=2).fit(X[:10]).transform(X[:10])
    np.testing.assert_allclose(layer2, E[:, 8:16], atol=1e-6)
    with pytest.raises(ValueError, match="layers"):
        TimeNetEmbedder(model=str(tiny_models["timenet"]), layers=4).fit(X[:3])


def test_embedder_pooling_averages_each_layer_over_the_valid_steps_only(tiny_models, gunpoint):
    import keras

    from tszoo.registry import load

    X, *_ = gunpoint
    path = str(tiny_models["timenet"])
    features = {p: TimeNetEmbedder(model=path, pooling=p).fit(X[:6]).transform(X[:6])
                for p in ("last", "mean", "last+mean")}
    assert features["mean"].shape == (6, 24) and features["last+mean"].shape == (6, 48)
    np.testing.assert_allclose(features["last+mean"], np.hstack([features["last"], features["mean"]]), atol=1e-5)
    # the means of the published graph's own GRU outputs (computed here from the encoder as loaded, not rebuilt)
    encoder = load(path)
    sequences = keras.Model(encoder.input, [encoder.get_layer(f"encoder_gru_{i}").output[0] for i in (1, 2, 3)])
    outputs = sequences.predict(X[:6, :, None], verbose=0)
    np.testing.assert_allclose(features["mean"], np.hstack([o.mean(axis=1) for o in outputs]), atol=1e-5)
    # over the valid steps only: a short series NaN-padded beside a full one = the short series alone
    mean = TimeNetEmbedder(model=path, pooling="mean").fit(X[:2])
    padded = np.full((2, 150), np.nan, np.float32)
    padded[0], padded[1, :60] = X[0], X[1, :60]
    np.testing.assert_allclose(mean.transform(padded)[1], mean.transform([X[1, :60]])[0], atol=1e-5)
    assert not np.allclose(mean.transform(padded)[1], features["mean"][1], atol=1e-3)  # the cut part counted
    layer2 = TimeNetEmbedder(model=path, pooling="last+mean", layers=2).fit(X[:6]).transform(X[:6])
    np.testing.assert_allclose(layer2, features["last+mean"][:, np.r_[8:16, 32:40]], atol=1e-6)
    with pytest.raises(ValueError, match="pooling='max'; expected one of"):
        TimeNetEmbedder(model=path, pooling="max").fit(X[:3])
    with pytest.raises(ValueError, match="needs a TimeNet encoder"):
        TimeNetEmbedder(model=str(tiny_models["convtimenet"]), pooling="mean").fit(X[:3])


def test_embedder_max_pooling_and_first_difference_input(tiny_models, gunpoint):
    """``last+mean+max``: the maxima of each layer's outputs over the valid steps after the states and means;
    ``inputs="series+diff"``: the same features of the series, then of its first difference over its valid steps
    (as the study in benchmarks/tnc_feature_variants computed them), a padded series giving its own numbers."""
    from benchmarks.tnc_feature_variants import KINDS, summaries_model, transformed
    from tszoo.inference import embed
    from tszoo.registry import load

    X, *_ = gunpoint
    path = str(tiny_models["timenet"])
    padded = np.full((3, 150), np.nan, np.float32)
    padded[0], padded[1, :61], padded[2] = X[0], X[1, :61], X[2]
    both = TimeNetEmbedder(model=path, pooling="last+mean+max", inputs="series+diff").fit(padded)
    F = both.transform(padded)
    assert F.shape == (3, 2 * 3 * 24) and both.n_features_out_ == 144
    study = summaries_model(load(path))
    for half, transform in enumerate(("raw", "diff")):
        S = embed(study, transformed(padded, transform)).reshape(3, 3, len(KINDS), 8)  # series, layer, kind, unit
        for k, kind in enumerate(("last", "mean", "max")):
            expected = S[:, :, KINDS.index(kind)].reshape(3, 24)
            np.testing.assert_allclose(F[:, half * 72 + k * 24: half * 72 + (k + 1) * 24], expected, atol=2e-5,
                                       err_msg=f"{transform} {kind}")
    # the short series padded beside full ones gives what it gives alone, in both halves
    np.testing.assert_allclose(F[1], both.transform([X[1, :61]])[0], atol=1e-5)
    # the first half is the series' own last+mean+max; the difference is not the series
    alone = TimeNetEmbedder(model=path, pooling="last+mean+max").fit(padded).transform(padded)
    np.testing.assert_allclose(F[:, :72], alone, atol=1e-5)
    assert not np.allclose(F[:, 72:], alone, atol=1e-2)
    # a layer owns its columns in every block: 6 blocks of 3 layers x 8 units
    layer3 = TimeNetEmbedder(model=path, pooling="last+mean+max", inputs="series+diff", layers=3).fit(padded)
    np.testing.assert_allclose(layer3.transform(padded), F[:, np.concatenate([np.r_[b * 24 + 16: b * 24 + 24]
                                                                              for b in range(6)])], atol=1e-6)
    with pytest.raises(ValueError, match="inputs='diff'; expected one of"):
        TimeNetEmbedder(model=path, inputs="diff").fit(X[:3])


def test_first_difference_and_masked_max_layers():
    import keras

    from tszoo.layers import FirstDifference, MaskedGlobalMaxPooling

    x = np.array([[1, 2, 4, 7, np.nan, np.nan], [0, 1, 0, 1, 0, 3], [5, np.nan, np.nan, np.nan, np.nan, np.nan]],
                 np.float32)[..., None]
    d = np.asarray(FirstDifference()(x))[..., 0]
    np.testing.assert_array_equal(d[0, :3], [1, 2, 3])
    np.testing.assert_array_equal(d[1, :5], [1, -1, 1, -1, 3])
    assert np.isnan(d[0, 3:]).all() and np.isnan(d[1, 5]) and np.isnan(d[2]).all() and d.shape == (3, 6)
    values = np.array([[[0.5], [-0.2], [0.9]], [[-0.3], [-0.1], [0.8]], [[0.1], [0.2], [0.3]]], np.float32)
    mask = np.array([[True, True, False], [True, True, True], [False, False, False]])
    top = np.asarray(MaskedGlobalMaxPooling()(values, mask))[:, 0]
    np.testing.assert_allclose(top, [0.5, 0.8, 0.0])  # the padded 0.9 is not counted; no valid step: 0
    assert keras.saving.get_registered_object("tszoo>FirstDifference") is FirstDifference


def test_timenet_classifier_learns_and_follows_sklearn(tiny_models, gunpoint):
    X, y, Xt, yt = gunpoint
    clf = TimeNetClassifier(model=str(tiny_models["timenet"]), random_state=0, cv=3)
    assert clf.fit(X, y) is clf
    assert set(clf.predict(Xt)) <= {1, 2} and clf.classes_.tolist() == [1, 2]
    assert clf.score(Xt, yt) > 0.6  # chance is 0.5
    proba = clf.predict_proba(Xt)
    assert proba.shape == (60, 2) and np.allclose(proba.sum(1), 1)
    # predict and decision_function are the SVM's own (as without calibration); predict_proba is calibrated
    plain = TimeNetClassifier(model=str(tiny_models["timenet"]), random_state=0, cv=3, probability=False).fit(X, y)
    np.testing.assert_array_equal(clf.predict(Xt), plain.predict(Xt))
    np.testing.assert_allclose(clf.decision_function(Xt), plain.decision_function(Xt))
    np.testing.assert_array_equal(clf.predict(Xt), clf.classes_[(clf.decision_function(Xt) > 0).astype(int)])
    assert not hasattr(plain, "predict_proba")
    assert not np.allclose(proba.max(1), 1.0)  # probabilities, not the SVM's hard votes
    # on real series the calibration ranks the test series as the SVM's decisions do (binary: one sigmoid)
    from scipy.stats import spearmanr
    assert spearmanr(proba[:, 1], clf.decision_function(Xt)).statistic > 0.999
    assert "C" in clf.best_params_ and "gamma" in clf.best_params_
    twin = clone(clf)
    assert twin.get_params() == clf.get_params() and not hasattr(twin, "svc_")
    with pytest.raises(NotFittedError):
        twin.predict(Xt)


def test_timenet_classifier_chooses_the_layer_that_carries_the_classes(tiny_models):
    """layers='auto' cross-validates the whole embedding against each GRU layer's part (tiny model: 3 x 8)."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 40)
    E = rng.normal(size=(80, 24))
    E[:, 8:16] += 1.5 * y[:, None]  # only layer 2's columns separate the classes; the rest is noise
    clf = TimeNetClassifier(model=str(tiny_models["timenet"]), cv=4, probability=False, random_state=0,
                            pooling="last", inputs="series", layers="auto")
    clf.fit_embeddings(E, y)
    assert clf.layers_ == 2 and set(clf.cv_results_) == {"all", "1", "2", "3"}
    assert clf.cv_results_["2"] > clf.cv_results_["1"] + 0.2
    Et = rng.normal(size=(40, 24))
    Et[:, 8:16] += 1.5 * np.repeat([0, 1], 20)[:, None]
    assert np.mean(clf.predict_embeddings(Et) == np.repeat([0, 1], 20)) > 0.9
    whole = TimeNetClassifier(layers=None, cv=4, probability=False, random_state=0).fit_embeddings(E, y)
    assert whole.layers_ is None and whole.columns_ is None
    with pytest.raises(ValueError, match="whole features"):
        clf.fit_embeddings(E[:, :10], y)
    # pooling="last+mean": final states (3 x 8), then time means (3 x 8); layer 2 owns columns 8:16 and 32:40
    P = rng.normal(size=(80, 48))
    P[:, 32:40] += 1.5 * y[:, None]
    pooled = TimeNetClassifier(model=str(tiny_models["timenet"]), cv=4, probability=False, random_state=0,
                               pooling="last+mean", inputs="series", layers="auto")
    assert pooled.fit_embeddings(P, y).layers_ == 2
    np.testing.assert_array_equal(pooled.columns_, np.r_[8:16, 32:40])
    with pytest.raises(ValueError, match="24 columns.*pooling and inputs they were made with"):
        pooled.fit_embeddings(E, y)  # the paper's embedding given to a classifier expecting pooled features
    # the default features (since 2026-12-07): last+mean+max of the series, then of its first difference, all
    # layers: 3 x 8 x 3 x 2 = 144 columns given to the SVM as they are
    users = TimeNetClassifier(model=str(tiny_models["timenet"]))
    assert (users.pooling, users.inputs, users.layers) == ("last+mean+max", "series+diff", None)
    users.set_params(cv=4, probability=False, random_state=0)
    D = rng.normal(size=(80, 144))
    D[:, 100:108] += 1.5 * y[:, None]
    assert users.fit_embeddings(D, y).layers_ is None and users.columns_ is None
    assert np.mean(users.predict_embeddings(D) == y) > 0.9


def test_timenet_in_pipeline_and_gridsearch(tiny_models, gunpoint):
    X, y, Xt, yt = gunpoint
    pipe = make_pipeline(TimeNetEmbedder(model=str(tiny_models["timenet"])), LogisticRegression(max_iter=500))
    assert pipe.fit(X, y).score(Xt, yt) > 0.6
    search = GridSearchCV(TimeNetClassifier(model=str(tiny_models["timenet"]), cv=2, probability=False),
                          {"C": [1.0, 10.0]}, cv=2)
    search.fit(X, y)
    assert search.best_params_["C"] in (1.0, 10.0)


def test_convtimenet_finetunes_repeatably_and_scratch_differs(tiny_models, gunpoint):
    X, y, Xt, yt = gunpoint
    kw = dict(model=str(tiny_models["convtimenet"]), epochs=10, random_state=1)
    a = ConvTimeNetClassifier(**kw).fit(X, y)
    b = ConvTimeNetClassifier(**kw).fit(X, y)
    np.testing.assert_allclose(a.predict_proba(Xt), b.predict_proba(Xt), atol=1e-5)
    assert a.epochs_run_ == 10 and len(a.history_["loss"]) == 10
    assert a.history_["loss"][-1] < a.history_["loss"][0]
    scratch = ConvTimeNetClassifier(pretrained=False, **kw).fit(X, y)
    assert np.abs(scratch.predict_proba(Xt) - a.predict_proba(Xt)).max() > 1e-4
    assert set(a.predict(Xt)) <= {1, 2}


def test_convtimenet_automatic_step_cap_is_the_small_data_cap_on_small_data(tiny_models, gunpoint):
    """max_steps="auto" on 50 series is the 250-step cap: the same fit, and max_steps_ says which cap ran; a step
    cap that is not one is refused before any training, with the accepted values."""
    X, y, Xt, _ = gunpoint
    kw = dict(model=str(tiny_models["convtimenet"]), epochs=30, random_state=0)
    auto = ConvTimeNetClassifier(max_steps="auto", **kw).fit(X, y)
    fixed = ConvTimeNetClassifier(max_steps=250, **kw).fit(X, y)
    assert auto.max_steps_ == fixed.max_steps_ == 250 and auto.epochs_run_ == 25  # 10 batches of 5 per pass
    np.testing.assert_allclose(auto.predict_proba(Xt), fixed.predict_proba(Xt), atol=1e-6)
    with pytest.raises(ValueError, match="max_steps='some'; expected a positive integer, None"):
        ConvTimeNetClassifier(max_steps="some", **kw).fit(X, y)


@pytest.mark.parametrize("precision", ["float32", "mixed_bfloat16"])
def test_convtimenet_multivariate_and_validation_split(tiny_models, gunpoint, precision):
    X, y, Xt, _ = gunpoint
    multi = np.stack([X, X[::-1]], axis=1)
    clf = ConvTimeNetClassifier(model=str(tiny_models["convtimenet"]), epochs=2, random_state=0,
                                validation_fraction=0.2, precision=precision).fit(multi, y)
    assert "val_loss" in clf.history_ and len(clf.history_["val_loss"]) == 2
    assert clf.predict_proba(np.stack([Xt, Xt], axis=1)).shape == (60, 2)
    with pytest.raises(ValueError, match="channel"):
        clf.predict(Xt)


@pytest.mark.parametrize("make", [
    lambda p: TimeNetClassifier(model=p["timenet"]),
    lambda p: ConvTimeNetClassifier(model=p["convtimenet"], epochs=1),
])
def test_estimators_refuse_bad_input(tiny_models, make):
    clf = make({k: str(v) for k, v in tiny_models.items()})
    X = np.random.default_rng(0).normal(size=(6, 20))
    with pytest.raises(ValueError, match="one label per series"):
        clf.fit(X, [1, 2])
    with pytest.raises(ValueError, match="single class"):
        clf.fit(X, [1] * 6)
    bad = X.copy()
    bad[0, 3] = np.nan
    with pytest.raises(ValueError, match="missing values"):
        clf.fit(bad, [1, 2] * 3)
    with pytest.raises(TypeError):
        clf.fit(np.array([["a"] * 5] * 6), [1, 2] * 3)


class Interrupted(Exception):
    """What :func:`interrupt_after`'s callback raises: a fit stopped between epochs, as a kill stops it."""


def interrupt_after(epoch):
    """A Keras callback that interrupts a fit at the end of ``epoch`` (0-based)."""
    import keras

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, ended, logs=None):
            if ended == epoch:
                raise Interrupted

    return Interrupt()


def test_convtimenet_fit_interrupted_and_resumed_equals_uninterrupted(tiny_models, gunpoint, tmp_path):
    X, y = gunpoint[:2]
    # one network: its checkpoint is checkpoint_dir itself (several: test_finetuning's ensemble test)
    kw = dict(model=str(tiny_models["convtimenet"]), epochs=6, batch_size=16, random_state=0, inputs="series")
    straight = ConvTimeNetClassifier(checkpoint_dir=tmp_path / "straight", **kw).fit(X, y)
    assert not list((tmp_path / "straight").iterdir())  # a completed fit leaves no checkpoint behind

    stop_after = int(np.random.default_rng().integers(0, 5))

    with pytest.raises(Interrupted):
        ConvTimeNetClassifier(checkpoint_dir=tmp_path / "run", **kw).fit(X, y, callbacks=[interrupt_after(stop_after)])
    assert (tmp_path / "run" / "state.json").exists()
    resumed = ConvTimeNetClassifier(checkpoint_dir=tmp_path / "run", **kw).fit(X, y)
    assert resumed.history_ == straight.history_
    for a, b in zip(straight.model_.get_weights(), resumed.model_.get_weights()):
        np.testing.assert_array_equal(a, b)

    # a kill while a completed fit cleans up (state.json gone, checkpoint files left): the next fit starts afresh
    with pytest.raises(Interrupted):
        ConvTimeNetClassifier(checkpoint_dir=tmp_path / "orphans", **kw).fit(X, y, callbacks=[interrupt_after(stop_after)])
    (tmp_path / "orphans" / "state.json").unlink()
    again = ConvTimeNetClassifier(checkpoint_dir=tmp_path / "orphans", **kw).fit(X, y)
    assert again.history_ == straight.history_

    # a checkpoint of one fit is never taken up, or overwritten, by a different one
    with pytest.raises(Interrupted):
        ConvTimeNetClassifier(checkpoint_dir=tmp_path / "run", **kw).fit(X, y, callbacks=[interrupt_after(stop_after)])
    before = sorted(p.name for p in (tmp_path / "run").rglob("*"))
    with pytest.raises(ValueError, match="checkpoint of another fit"):
        ConvTimeNetClassifier(checkpoint_dir=tmp_path / "run", **{**kw, "random_state": 1}).fit(X, y)
    assert sorted(p.name for p in (tmp_path / "run").rglob("*")) == before


def test_a_fit_without_an_int_seed_resumes_with_the_seed_it_drew(tiny_models, gunpoint, tmp_path):
    """random_state=None (or a RandomState) draws a seed; with a checkpoint_dir the drawn seed is kept there until
    the fit completes, so the resumed fit is the interrupted one: the weights of an uninterrupted fit with that
    seed, for one network and for the pair."""
    import json

    X, y = gunpoint[0][:30], gunpoint[1][:30]
    stop_after = int(np.random.default_rng().integers(0, 2))

    for inputs, random_state in (("series", None), ("series+diff", np.random.RandomState())):
        kw = dict(model=str(tiny_models["convtimenet"]), epochs=3, batch_size=16, inputs=inputs)
        run = tmp_path / inputs
        with pytest.raises(Interrupted):
            ConvTimeNetClassifier(checkpoint_dir=run, random_state=random_state, **kw).fit(
                X, y, callbacks=[interrupt_after(stop_after)])
        seed = json.loads((run / "seed.json").read_text())["seed"]
        resumed = ConvTimeNetClassifier(checkpoint_dir=run, random_state=random_state, **kw).fit(X, y)
        assert not list(run.iterdir())  # the seed went with the checkpoints
        straight = ConvTimeNetClassifier(random_state=seed, **kw).fit(X, y)
        assert resumed.history_ == straight.history_
        for a, b in zip(straight.model_.get_weights(), resumed.model_.get_weights()):
            np.testing.assert_array_equal(a, b)

    run.mkdir(exist_ok=True)
    (run / "seed.json").write_text("{not json")
    with pytest.raises(ValueError, match="seed an interrupted fit drew"):
        ConvTimeNetClassifier(checkpoint_dir=run, **kw).fit(X, y)
    assert (run / "seed.json").read_text() == "{not json"  # nothing removed


def test_predicting_does_not_keep_a_model_alive():
    import gc
    import weakref

    from tszoo.architectures.convtimenet import build_convtimenet
    from tszoo.inference import predict_batched

    model = build_convtimenet((3,), 2, 1, 2)
    x = np.random.default_rng(0).normal(size=(5, 30, 1)).astype(np.float32)
    np.testing.assert_allclose(predict_batched(model, x), model.predict(x, verbose=0), atol=1e-5)
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None  # a grid search fits many models: each must be freed when dropped


def test_one_series_per_class_is_valid_input(tiny_models):
    """Few labels: one training series per class fits every estimator; what cannot be done with so little is
    dropped with one warning that says so, never an exception."""
    import warnings as w

    X, y = load_ucr("ArrowHead", "train")
    Xt, _ = load_ucr("ArrowHead", "test")
    one = np.concatenate([np.flatnonzero(y == c)[:1] for c in np.unique(y)])
    models = {k: str(v) for k, v in tiny_models.items()}
    with pytest.warns(UserWarning, match="cannot cross-validate"):
        tnc = TimeNetClassifier(model=models["timenet"]).fit(X[one], y[one])
    assert set(tnc.predict(Xt)) <= set(y) and not hasattr(tnc, "predict_proba")
    with pytest.warns(UserWarning, match="validation_fraction"):
        ctn = ConvTimeNetClassifier(model=models["convtimenet"], epochs=2, validation_fraction=0.2, finetune="full",
                                    random_state=0).fit(X[one], y[one])
    np.testing.assert_allclose(ctn.predict_proba(Xt[:4]).sum(1), 1.0, atol=1e-5)
    assert ctn.finetune_ == "full" and len(ctn.history_["loss"]) == 2
    with w.catch_warnings(record=True) as caught:  # the default recipe needs no fallback at one series per class
        w.simplefilter("always")
        default = ConvTimeNetClassifier(model=models["convtimenet"], epochs=2, random_state=0).fit(X[one], y[one])
        scratch = ConvTimeNetClassifier(model=models["convtimenet"], epochs=2, pretrained=False,
                                        random_state=0).fit(X[one], y[one])
    assert not [c for c in caught if issubclass(c.category, UserWarning) and "tszoo" in c.filename]
    # the default fine-tunes the whole network at any size; the frozen head is there when asked for
    assert default.finetune_ == "full" and len(default.history_["loss"]) == 2 and scratch.finetune_ == "full"
    head = ConvTimeNetClassifier(model=models["convtimenet"], finetune="head", random_state=0).fit(X[one], y[one])
    assert head.history_["loss"] == [] and set(head.predict(Xt)) <= set(y)
