"""The fine-tuning recipe: a fit is a function of its data, settings and seed; its parts do what they say."""

import keras
import numpy as np
import pytest
from conftest import ragged_batch

from tszoo import finetuning
from tszoo.estimators import ConvTimeNetClassifier


@pytest.fixture(scope="module")
def gunpoint_small():
    from tszoo.datasets import load_ucr

    X, y = load_ucr("GunPoint", "train")
    Xt, yt = load_ucr("GunPoint", "test")
    return X[:40], y[:40], Xt[:30], yt[:30]


def test_a_fit_does_not_depend_on_what_ran_before_it_in_the_process(tiny_models, gunpoint_small):
    X, y, Xt, _ = gunpoint_small
    kw = dict(model=str(tiny_models["convtimenet"]), epochs=3, random_state=7)
    first = ConvTimeNetClassifier(**kw).fit(X, y).predict_proba(Xt)
    # disturb every global random state a process accumulates: Keras', NumPy's, TensorFlow's op counters
    keras.utils.set_random_seed(123)
    np.random.seed(5)
    keras.layers.Dense(3)(np.zeros((2, 4), np.float32))
    keras.random.normal((3,))
    ConvTimeNetClassifier(model=str(tiny_models["convtimenet"]), epochs=1, random_state=3).fit(X, y)
    again = ConvTimeNetClassifier(**kw).fit(X, y).predict_proba(Xt)
    np.testing.assert_allclose(again, first, atol=1e-6)


def test_a_checkpointed_fit_equals_a_plain_one(tiny_models, gunpoint_small, tmp_path):
    from tszoo import estimators

    X, y, Xt, _ = gunpoint_small
    # the plain fit runs on a kept network: one traced before an earlier test reset the global seeds would differ
    # at the 1e-7 level (see the test above), so both are traced here
    estimators.clear_trainers()
    kw = dict(model=str(tiny_models["convtimenet"]), epochs=3, random_state=2)
    plain = ConvTimeNetClassifier(**kw).fit(X, y)
    checkpointed = ConvTimeNetClassifier(checkpoint_dir=tmp_path / "ckpt", **kw).fit(X, y)
    for a, b in zip(plain.model_.get_weights(), checkpointed.model_.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_fit_on_a_kept_network_equals_one_on_a_new_network(tiny_models, gunpoint_small):
    """Full fine-tuning reuses a compiled network of the same architecture from an earlier fit in the process;
    the result must be that of a new network, and a fitted model must not change when another fit runs."""
    from tszoo import estimators

    X, y, Xt, _ = gunpoint_small
    kw = dict(model=str(tiny_models["convtimenet"]), random_state=1)
    estimators.clear_trainers()
    first = ConvTimeNetClassifier(epochs=3, **kw).fit(X, y)  # a new network, kept afterwards
    assert len(estimators._trainers.idle) == 1
    kept = next(iter(estimators._trainers.idle.values()))
    p_first = first.predict_proba(Xt)
    # on the kept network: other data of the same shapes, schedule length, peak rate, warm-up
    ConvTimeNetClassifier(epochs=2, learning_rate=1e-3, warmup=0.0, **kw).fit(X[::-1], y[::-1])
    assert len(estimators._trainers.idle) == 1
    np.testing.assert_array_equal(first.predict_proba(Xt), p_first)
    again = ConvTimeNetClassifier(epochs=3, **kw).fit(X, y)
    assert next(iter(estimators._trainers.idle.values())) is kept  # it did run on the kept network
    assert again.model_ is not kept.model and again.model_ is not first.model_
    for a, b in zip(first.model_.get_weights(), again.model_.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_name_that_now_means_another_network_gets_its_own(tiny_models, gunpoint_small, tmp_path, monkeypatch):
    """The kept networks are keyed by the network, not by the model's name: after the registry behind "convtimenet"
    changes (another models folder), a fit must run on the new architecture, not fail or reuse the old one."""
    from tszoo import estimators
    from tszoo.architectures.convtimenet import build_convtimenet
    from tszoo.publishing import publish_model
    from tszoo.registry import MODELS_ENV

    X, y, Xt, _ = gunpoint_small
    other = build_convtimenet(kernel_sizes=(5,), filters=4, num_blocks=1, bottleneck=4)
    publish_model(other, "convtimenet", root=tmp_path, architecture="convtimenet", builder={
        "function": "tszoo.architectures.convtimenet.build_convtimenet",
        "arguments": {"kernel_sizes": [5], "filters": 4, "num_blocks": 1, "bottleneck": 4}},
        training={"datasets": ["GunPoint"], "epochs": 0})
    estimators.clear_trainers()
    monkeypatch.setenv(MODELS_ENV, str(tiny_models["root"]))
    ConvTimeNetClassifier(model="convtimenet", epochs=1, random_state=0).fit(X, y)
    monkeypatch.setenv(MODELS_ENV, str(tmp_path))
    fitted = ConvTimeNetClassifier(model="convtimenet", epochs=1, random_state=0).fit(X, y)
    assert len(estimators._trainers.idle) == 2
    by_path = ConvTimeNetClassifier(model=str(tmp_path / "convtimenet"), epochs=1, random_state=0).fit(X, y)
    for a, b in zip(fitted.model_.get_weights(), by_path.model_.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # the new network, trained as on its own
    assert fitted.predict_proba(Xt).shape == (len(Xt), 2)


def test_an_ensemble_averages_its_members(tiny_models, gunpoint_small):
    X, y, Xt, _ = gunpoint_small
    kw = dict(model=str(tiny_models["convtimenet"]), epochs=2)
    ensemble = ConvTimeNetClassifier(n_estimators=2, random_state=4, **kw).fit(X, y)
    members = [ConvTimeNetClassifier(random_state=s, **kw).fit(X, y).predict_proba(Xt) for s in (4, 5)]
    np.testing.assert_allclose(ensemble.predict_proba(Xt), np.mean(members, axis=0), atol=1e-5)
    with pytest.raises(ValueError, match="n_estimators"):
        ConvTimeNetClassifier(n_estimators=0, **kw).fit(X, y)


def test_the_targets_benchmark_scores_each_member_of_an_ensemble_as_its_own_seed(tiny_models, gunpoint_small):
    """benchmarks.convtimenet_targets' ensemble rows carry each member's accuracy: member i is the single network of
    seed random_state + i, so one ensemble run also gives those seeds' single rows."""
    from benchmarks.convtimenet_targets import member_accuracies

    X, y, Xt, yt = gunpoint_small
    kw = dict(model=str(tiny_models["convtimenet"]), epochs=2, inputs="series")
    ensemble = ConvTimeNetClassifier(n_estimators=3, random_state=7, **kw).fit(X, y)
    singles = [float(ConvTimeNetClassifier(random_state=s, **kw).fit(X, y).score(Xt, yt)) for s in (7, 8, 9)]
    assert member_accuracies(ensemble, Xt, yt) == {"member_accuracies": singles}


def test_series_and_difference_networks_average_and_take_the_series(tiny_models, gunpoint_small, tmp_path):
    """inputs="series+diff": each seed's network on the series (the single fit of that seed) and one fine-tuned on
    the first difference (a fit on the differenced series), probabilities averaged; the fitted model takes the
    series and differences it itself, so a saved and reloaded model predicts the same; the targets benchmark
    scores every network alone."""
    from benchmarks.convtimenet_targets import member_accuracies
    from tszoo.estimators import first_difference

    X, y, Xt, yt = gunpoint_small
    X = X.copy()
    X[3, 100:] = np.nan  # a shorter series: its difference is one step shorter still
    kw = dict(model=str(tiny_models["convtimenet"]), epochs=2, inputs="series")
    both = ConvTimeNetClassifier(**{**kw, "inputs": "series+diff"}, random_state=4).fit(X, y)
    assert ConvTimeNetClassifier().inputs == "series+diff"  # the default since 2026-12-07
    series = ConvTimeNetClassifier(random_state=4, **kw).fit(X, y)
    D, Dt = (first_difference(A[..., None])[..., 0] for A in (X, Xt))
    assert np.isnan(D[3, 99:]).all() and not np.isnan(D[3, :99]).any()
    difference = ConvTimeNetClassifier(random_state=4, **kw).fit(D, y)
    expected = (series.predict_proba(Xt) + difference.predict_proba(Dt)) / 2
    np.testing.assert_allclose(both.predict_proba(Xt), expected, atol=1e-5)
    assert not np.allclose(series.predict_proba(Xt), difference.predict_proba(Dt), atol=1e-3)
    assert member_accuracies(both, Xt, yt) == {"member_accuracies": [float(series.score(Xt, yt))],
                                               "diff_member_accuracies": [float(difference.score(Dt, yt))]}
    both.model_.save(tmp_path / "both.keras")
    again = keras.saving.load_model(tmp_path / "both.keras")
    np.testing.assert_allclose(np.asarray(again(Xt[..., None])), both.predict_proba(Xt), atol=1e-5)
    with pytest.raises(ValueError, match="inputs='diff'; expected 'series' or 'series\\+diff'"):
        ConvTimeNetClassifier(**{**kw, "inputs": "diff"}).fit(X, y)


def test_budget_gives_small_data_epochs_and_large_data_steps():
    assert finetuning.budget(20, 4, 40, 250) == (40, 5)  # 200 steps: every epoch
    assert finetuning.budget(400, 32, 40, 250) == (19, 13)  # capped near 250 steps
    assert finetuning.budget(9000, 32, 40, 250) == (1, 250)  # one shortened epoch
    assert finetuning.budget(9000, 32, 40, None) == (40, 282)


def test_the_automatic_step_cap_grows_with_the_training_set():
    """max_steps="auto": 250 steps below 1,000 training series, 1,000 from there; the cap is what budget() uses,
    and anything else than a positive integer, None or "auto" is refused with the accepted values."""
    assert [finetuning.step_cap("auto", n) for n in (1, 999, 1000, 9000)] == [250, 250, 1000, 1000]
    assert finetuning.budget(999, 32, 100, "auto") == finetuning.budget(999, 32, 100, 250) == (7, 32)
    assert finetuning.budget(1000, 32, 100, "auto") == finetuning.budget(1000, 32, 100, 1000) == (31, 32)
    assert finetuning.budget(9000, 32, 100, "auto") == (3, 282)
    assert finetuning.step_cap(None, 10) is None and finetuning.step_cap(np.int64(7), 10) == 7
    for bad in ("many", 0, -5, 2.5, True):
        with pytest.raises(ValueError, match="positive integer, None .*'auto'"):
            finetuning.step_cap(bad, 10)


def test_adapt_batchnorm_takes_the_statistics_of_the_data(rng):
    from tszoo.architectures.convtimenet import build_convtimenet

    body = build_convtimenet((3, 5), 4, 2, 4)
    x = ragged_batch(rng, [30, 22, 30, 17, 25, 30] * 4) * 3.0
    finetuning.adapt_batchnorm(body, x, batch_size=len(x))
    reference = np.asarray(body(x, training=False))
    batch_stats = np.asarray(body(x, training=True))  # batch norm over this very batch
    np.testing.assert_allclose(reference, batch_stats, atol=1e-4)
    assert all(layer.momentum == 0.99 for layer in finetuning.batchnorm_layers(body))  # restored


@pytest.mark.parametrize("n_classes", [2, 4])
def test_probe_head_reproduces_the_logistic_regression(n_classes, rng):
    from sklearn.linear_model import LogisticRegression

    E = rng.normal(size=(80, 6)).astype(np.float32)
    codes = rng.integers(0, n_classes, 80)
    kernel, bias = finetuning.probe_head(E, codes, n_classes, seed=0)
    probe = LogisticRegression(C=1.0, max_iter=2000, random_state=0).fit(E, codes)
    logits = E @ kernel + bias
    np.testing.assert_array_equal(logits.argmax(1), probe.predict(E))
    softmax = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(softmax / softmax.sum(1, keepdims=True), probe.predict_proba(E), atol=1e-4)


def test_precise_statistics_for_evaluation_leave_the_training_ones_untouched(rng):
    from builders.training import pad_batch
    from tszoo.architectures.convtimenet import build_convtimenet

    body = build_convtimenet((3, 5), 4, 2, 4)
    before = [np.asarray(layer.moving_mean).copy() for layer in finetuning.batchnorm_layers(body)]
    batches = [pad_batch([rng.normal(size=n).astype(np.float32) * 5 for n in (12, 20, 16)]) for _ in range(3)]
    with finetuning.saved_batchnorm(body):
        finetuning.precise_batchnorm(body, batches)
        changed = [np.asarray(layer.moving_mean) for layer in finetuning.batchnorm_layers(body)]
        assert any(not np.allclose(a, b) for a, b in zip(before, changed))
    after = [np.asarray(layer.moving_mean) for layer in finetuning.batchnorm_layers(body)]
    assert all(np.array_equal(a, b) for a, b in zip(before, after))


def test_frozen_body_fits_a_linear_head_only(tiny_models, gunpoint_small):
    X, y, Xt, _ = gunpoint_small
    body = ConvTimeNetClassifier(model=str(tiny_models["convtimenet"]))._build(1, 2, 0)[0].layers[1]
    before = [w.copy() for w in body.get_weights()]
    clf = ConvTimeNetClassifier(model=str(tiny_models["convtimenet"]), finetune="head", random_state=0,
                                inputs="series").fit(X, y)
    assert clf.epochs_run_ == 0
    frozen = clf.model_.get_layer(body.name)
    conv_weights = [w for w, v in zip(frozen.get_weights(), frozen.weights) if "moving" not in v.path]
    conv_before = [w for w, v in zip(before, body.weights) if "moving" not in v.path]
    assert all(np.array_equal(a, b) for a, b in zip(conv_weights, conv_before))  # only statistics adapted
    assert clf.predict_proba(Xt).shape == (len(Xt), 2)
    with pytest.raises(ValueError, match="frozen"):
        ConvTimeNetClassifier(model=str(tiny_models["convtimenet"]), finetune="head", pretrained=False).fit(X, y)


@pytest.mark.parametrize("learning_rate,total,warmup", [(1e-3, 30, 3), (3e-3, 12, 0), (5e-4, 7, 6), (1e-3, 1, 0)])
def test_the_resettable_schedule_gives_the_cosine_schedules_rates(learning_rate, total, warmup):
    """Fine-tuning's schedule (settings in variables, reset between fits) against ``cosine_schedule``: warm-up
    from 0, the peak after it, cosine decay to 0 at the last step, the same rates to float32 rounding."""
    import tensorflow as tf

    from tszoo.finetuning import ResettableCosine, cosine_schedule

    kept = ResettableCosine(0.0)
    kept.reset(0.1, 1000, 100)  # an earlier fit's settings, then this one's
    kept.reset(learning_rate, total, warmup)
    reference = cosine_schedule(learning_rate, total, warmup, 0.0)
    steps = np.arange(total + 2)
    step = tf.function(lambda s: kept(s))
    got = np.array([float(step(tf.constant(s, tf.int64))) for s in steps])
    want = np.array([float(reference(s)) for s in steps])
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-12)
    assert got[warmup] == pytest.approx(learning_rate, rel=1e-6) and got[-1] == pytest.approx(0.0, abs=1e-12)
    if warmup:
        assert got[0] == 0.0 and np.all(np.diff(got[:warmup + 1]) > 0)


def test_augmentation_changes_only_the_valid_part_and_keeps_padding_at_the_end(rng):
    x = rng.normal(size=(4, 50, 2)).astype(np.float32)
    x[1, 30:] = np.nan
    x[2, 0, 0] = 0.0  # a real zero is data
    lengths = np.array([50, 30, 50, 50])
    for kinds, expect in (("crop", np.ceil(0.9 * lengths)), ("jitter+warp", lengths)):
        out = finetuning.augment_batch(x, kinds, np.random.default_rng(3))
        valid = ~np.isnan(out).any(axis=2)
        np.testing.assert_array_equal(valid.sum(axis=1), expect)
        # valid steps first, NaN only after them: what the body's masking expects
        assert all(valid[i, :int(n)].all() and not valid[i, int(n):].any() for i, n in enumerate(expect))
        assert not np.allclose(out[:, :30], x[:, :30])
    again = finetuning.augment_batch(x, "jitter+warp+crop", np.random.default_rng(3))
    np.testing.assert_array_equal(again, finetuning.augment_batch(x, "jitter+warp+crop", np.random.default_rng(3)))
    # a crop is a window of the series itself
    cropped = finetuning.augment_batch(x[:1], "crop", np.random.default_rng(0))[0, :45]
    starts = [s for s in range(6) if np.array_equal(x[0, s:s + 45], cropped)]
    assert len(starts) == 1
    assert finetuning.parse_augment(None) == () and finetuning.parse_augment("warp+jitter") == ("warp", "jitter")
    with pytest.raises(ValueError, match="'scale'.*is not an augmentation.*jitter"):
        finetuning.parse_augment("jitter+scale")


def test_an_augmented_fit_is_reproducible_and_differs_from_a_plain_one(tiny_models, gunpoint_small):
    X, y, Xt, _ = gunpoint_small
    kw = dict(model=str(tiny_models["convtimenet"]), epochs=3, random_state=4)
    plain = ConvTimeNetClassifier(**kw).fit(X, y).predict_proba(Xt)
    first = ConvTimeNetClassifier(augment="jitter+warp+crop", **kw).fit(X, y).predict_proba(Xt)
    again = ConvTimeNetClassifier(augment="jitter+warp+crop", **kw).fit(X, y).predict_proba(Xt)
    np.testing.assert_allclose(again, first, atol=1e-6)
    assert np.abs(first - plain).max() > 1e-3
    with pytest.raises(ValueError, match="is not an augmentation"):
        ConvTimeNetClassifier(augment="mixup", **kw).fit(X, y)


def test_the_recipe_study_compares_budgets_and_refuses_rows_made_with_another_budget(tiny_models, tmp_path):
    """benchmarks.finetune_recipe_cv: budget candidates carry their own budget (whatever --epochs/--max-steps say),
    every row records it, the report compares each candidate with --baseline, and a folder holding a candidate's rows
    made with another budget is refused rather than mixed in."""
    import json

    from archive import tiny_archive

    from benchmarks.finetune_recipe_cv import main, settings

    assert settings("steps1000", 40, 250) == {"epochs": 100, "max_steps": 1000, "inputs": "series"}
    assert settings("default_diff", 40, 250)["inputs"] == "series+diff"
    assert settings("lr3e-3_probe", 40, 250)["max_steps"] == 250
    with pytest.raises(SystemExit, match="unknown candidate"):
        settings("steps4000", 40, 250)
    archive = tiny_archive(tmp_path, series_per_split=12)
    out = tmp_path / "study"
    common = ["--model", str(tiny_models["convtimenet"]), "--archive", str(archive), "--datasets", "SinA",
              "--out", str(out)]
    main(common + ["--candidates", "default,scratch", "--baseline", "default", "--name", "budget"])
    rows = [json.loads(x) for x in (out / "rows.jsonl").read_text().splitlines()]
    assert {(r["candidate"], r["epochs"], r["max_steps"], r.get("pretrained", True)) for r in rows} == {
        ("default", 100, 250, True), ("scratch", 100, 250, False)}
    report = (out / "budget.md").read_text()
    assert "Against `default`" in report and "- `scratch`:" in report
    main(common + ["--candidates", "lr1e-3_probe", "--max-steps", "3"])
    with pytest.raises(SystemExit, match="other settings"):
        main(common + ["--candidates", "lr1e-3_probe", "--max-steps", "4"])
    with pytest.raises(SystemExit, match="not among"):
        main(common + ["--candidates", "default", "--baseline", "steps1000"])
    # a bfloat16 candidate records its precision, and a float32 row under its name is refused
    assert settings("steps1000_bf16", 40, 250)["precision"] == "mixed_bfloat16"
    with (out / "rows.jsonl").open("a") as f:
        f.write(json.dumps({**rows[0], "candidate": "default_bf16"}) + "\n")
    with pytest.raises(SystemExit, match="other settings"):
        main(common + ["--candidates", "default_bf16"])


def test_the_recipe_study_holds_out_a_stratified_third_and_fits_a_class_it_cannot_split():
    """A class with one training series (FiftyWords has some) is fitted on and never held out; without such a
    class the split is scikit-learn's stratified third, order included (what the committed rows were made on)."""
    from sklearn.model_selection import train_test_split

    from benchmarks.common import stratified_third as holdout

    y = np.array(["a"] * 6 + ["b"] * 6 + ["c"] * 6)
    fit_idx, val_idx = holdout(y)
    want_fit, want_val = train_test_split(np.arange(18), test_size=1 / 3, stratify=y, random_state=0)
    assert fit_idx.tolist() == want_fit.tolist() and val_idx.tolist() == want_val.tolist()
    y = np.array(["a"] * 6 + ["b"] * 6 + ["lone"])
    fit_idx, val_idx = holdout(y)
    assert 12 in fit_idx and 12 not in val_idx
    assert sorted(np.concatenate([fit_idx, val_idx]).tolist()) == list(range(13))
    assert sorted(y[val_idx].tolist()) == ["a", "a", "b", "b"]


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tf.data pipeline")
def test_tf_dataset_feeds_what_a_fit_on_the_pydataset_feeds():
    """EpochBatches.tf_dataset is a faster way to the same fit: the same batches in the same order, including a
    shortened epoch (steps < batches in a pass), a partial last batch and a fit resumed at a later epoch."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 12, 1)).astype(np.float32)
    y = rng.integers(0, 3, size=10).astype(np.int32)

    def fitted(data, epochs, **kw):
        keras.utils.set_random_seed(0)
        series = keras.Input((12, 1))
        model = keras.Model(series, keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(series)))
        model.compile(keras.optimizers.Adam(0.1), "sparse_categorical_crossentropy")
        model.fit(data, epochs=epochs, verbose=0, shuffle=False, **kw)
        return model.get_weights()

    for batch, steps, epoch in [(3, 4, 0), (3, 3, 0), (4, 3, 2)]:
        same = fitted(finetuning.EpochBatches(x, y, batch, steps, seed=5, epoch=epoch), 4)
        fast = fitted(finetuning.EpochBatches(x, y, batch, steps, seed=5, epoch=epoch).tf_dataset(4), 4,
                      steps_per_epoch=steps)
        for a, b in zip(same, fast):
            np.testing.assert_array_equal(a, b)
        # the comparison tells orders apart: one epoch later, the weights differ
        later = fitted(finetuning.EpochBatches(x, y, batch, steps, seed=5, epoch=epoch + 1).tf_dataset(4), 4,
                       steps_per_epoch=steps)
        assert not all(np.array_equal(a, b) for a, b in zip(same, later))
    with pytest.raises(ValueError, match="no augmented batches"):
        finetuning.EpochBatches(x, y, 3, 4, seed=5, augment="jitter").tf_dataset(2)


def test_a_mixed_precision_copy_computes_in_bfloat16_on_the_same_weights(tiny_models, gunpoint_small):
    from tszoo.estimators import in_precision

    X, _, Xt, _ = gunpoint_small
    clf = ConvTimeNetClassifier(model=str(tiny_models["convtimenet"]))
    built = clf._build(1, 2, 0)
    twin = in_precision(built, "mixed_bfloat16", 1, clf.head_dropout)
    body = finetuning.body_of(twin[0])
    dtypes = {type(layer).__name__: layer.compute_dtype for layer in body.layers}
    assert dtypes["Conv1D"] == "bfloat16" and dtypes["BatchNormalization"] == "bfloat16"
    assert dtypes["SeriesStandardization"] == "float32" and dtypes["MaskedGlobalAveragePooling"] == "float32"
    assert twin[2].compute_dtype == "float32" and twin[0].name == built[0].name
    assert all(v.dtype == "float32" for v in twin[0].trainable_variables)
    for a, b in zip(built[0].get_weights(), twin[0].get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    series = np.transpose(Xt[:, None, :], (0, 2, 1)).astype(np.float32)
    p32, p16 = (np.asarray(m.predict(series, verbose=0)) for m in (built[0], twin[0]))
    assert p16.dtype == np.float32
    assert 0 < np.abs(p16 - p32).max() < 0.05  # bfloat16 rounding: not the same arithmetic, nearly the same result


def test_a_mixed_precision_fit_gives_a_float32_network_and_is_reproducible(tiny_models, gunpoint_small, tmp_path):
    from tszoo import estimators

    X, y, Xt, yt = gunpoint_small
    kw = dict(model=str(tiny_models["convtimenet"]), epochs=3, random_state=5)
    estimators.clear_trainers()
    full = ConvTimeNetClassifier(**kw).fit(X, y)
    mixed = ConvTimeNetClassifier(precision="mixed_bfloat16", **kw).fit(X, y)
    assert len(estimators._trainers.idle) == 2  # a float32 and a bfloat16 trainer, not one serving both
    assert {layer.compute_dtype for layer in mixed.model_._flatten_layers()} == {"float32"}
    kept = ConvTimeNetClassifier(precision="mixed_bfloat16", **kw).fit(X, y)  # on the kept bfloat16 trainer
    fresh = ConvTimeNetClassifier(precision="mixed_bfloat16", checkpoint_dir=tmp_path / "c", **kw).fit(X, y)
    for a, b, c in zip(mixed.model_.get_weights(), kept.model_.get_weights(), fresh.model_.get_weights()):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    assert any(not np.array_equal(a, b) for a, b in zip(full.model_.get_weights(), mixed.model_.get_weights()))
    assert abs(mixed.score(Xt, yt) - full.score(Xt, yt)) <= 0.2


def test_auto_precision_is_bfloat16_where_the_machine_has_the_units_and_float32_elsewhere(
        tiny_models, gunpoint_small, monkeypatch):
    from tszoo import precision

    X, y, _, _ = gunpoint_small
    kw = dict(model=str(tiny_models["convtimenet"]), epochs=2, random_state=3)
    fits = {p: ConvTimeNetClassifier(precision=p, **kw).fit(X, y) for p in ("float32", "mixed_bfloat16")}
    for units, meant in ((True, "mixed_bfloat16"), (False, "float32")):
        monkeypatch.setattr(precision, "bfloat16_hardware", lambda units=units: units)
        auto = ConvTimeNetClassifier(precision="auto", **kw).fit(X, y)
        assert auto.precision == "auto" and auto.precision_ == meant  # the parameter as given, what ran beside it
        for a, b in zip(auto.model_.get_weights(), fits[meant].model_.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)


def test_precision_is_checked_and_a_float32_checkpoint_keeps_its_fingerprint(tiny_models, gunpoint_small):
    from tszoo.estimators import _fingerprint

    X, y, _, _ = gunpoint_small
    with pytest.raises(ValueError, match=r"precision='float16'; expected one of 'float32', 'mixed_bfloat16'"):
        ConvTimeNetClassifier(model=str(tiny_models["convtimenet"]), precision="float16").fit(X, y)
    params = ConvTimeNetClassifier().get_params()
    older = {k: v for k, v in params.items() if k != "precision"}  # a checkpoint made before the setting existed
    data = (np.zeros((4, 5, 1), np.float32), np.array([0, 1, 0, 1]), np.arange(4))
    assert _fingerprint(*data, params, 4, 3) == _fingerprint(*data, older, 4, 3)
    assert _fingerprint(*data, {**params, "precision": "mixed_bfloat16"}, 4, 3) != _fingerprint(*data, older, 4, 3)


def test_mixed_precision_warns_without_bfloat16_units_and_fails_clearly_where_kernels_lack_it(
        tiny_models, gunpoint_small, monkeypatch):
    import os
    import subprocess
    import sys

    from tszoo import estimators

    X, y, _, _ = gunpoint_small
    monkeypatch.setattr(estimators, "bfloat16_hardware", lambda: False)
    with pytest.warns(UserWarning, match="without bfloat16 units"):
        ConvTimeNetClassifier(model=str(tiny_models["convtimenet"]), precision="mixed_bfloat16", epochs=1,
                              random_state=0).fit(X, y)
    # oneDNN held to AVX2 has no bfloat16 convolution on x86: either TensorFlow runs it another way, or the fit
    # stops with the reason and the way out, never with a bare kernel error from inside training
    code = ("import sys; from tszoo.datasets import load_ucr; from tszoo.estimators import ConvTimeNetClassifier; "
            "X, y = load_ucr('GunPoint', 'train'); "
            "ConvTimeNetClassifier(model=sys.argv[1], precision='mixed_bfloat16', epochs=1).fit(X[:20], y[:20])")
    done = subprocess.run([sys.executable, "-c", code, str(tiny_models["convtimenet"])], capture_output=True,
                          text=True, env={**os.environ, "ONEDNN_MAX_CPU_ISA": "AVX2"}, timeout=300)
    assert done.returncode == 0 or (
        "RuntimeError: precision='mixed_bfloat16'" in done.stderr and "use precision='float32'" in done.stderr), \
        done.stderr[-2000:]


def _body_distance(fitted, start) -> float:
    body = finetuning.body_of(fitted.model_)
    return float(np.sqrt(sum(np.sum((v.numpy() - s) ** 2) for v, s in zip(body.trainable_variables, start,
                                                                             strict=True))))


def test_l2sp_holds_the_body_near_its_pretrained_weights_and_leaks_into_no_other_fit(tiny_models, gunpoint_small,
                                                                                      tmp_path):
    from tszoo import estimators
    from tszoo.registry import load

    X, y, Xt, _ = gunpoint_small
    start = [v.numpy() for v in load(str(tiny_models["convtimenet"])).trainable_variables]
    kw = dict(model=str(tiny_models["convtimenet"]), epochs=3, learning_rate=1e-2, random_state=4,
              inputs="series")  # one body to measure
    estimators.clear_trainers()
    free = ConvTimeNetClassifier(**kw).fit(X, y)
    held = ConvTimeNetClassifier(l2sp=100.0, **kw).fit(X, y)
    assert _body_distance(held, start) < 0.2 * _body_distance(free, start)
    assert len(estimators._trainers.idle) == 2  # a step with the pull is not a step without it
    # on the kept networks, after fits from other data: the same as each fit on a new network
    ConvTimeNetClassifier(l2sp=100.0, **kw).fit(X[::-1], y[::-1])
    again_free = ConvTimeNetClassifier(**kw).fit(X, y)
    again_held = ConvTimeNetClassifier(l2sp=100.0, **kw).fit(X, y)
    for first, again in ((free, again_free), (held, again_held)):
        for a, b in zip(first.model_.get_weights(), again.model_.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)
    assert held.predict_proba(Xt).shape == (len(Xt), 2)
    assert not held.model_.losses  # the fitted network carries no pull (the kept one does, for the next fit)
    checkpointed = ConvTimeNetClassifier(l2sp=100.0, checkpoint_dir=tmp_path / "ckpt", **kw).fit(X, y)  # a new one
    assert not checkpointed.model_.losses and _body_distance(checkpointed, start) < 0.2 * _body_distance(free, start)


@pytest.mark.parametrize("kw, says", [(dict(l2sp=-0.1), "expected a strength >= 0"),
                                      (dict(l2sp=float("nan")), "expected a strength >= 0"),
                                      (dict(l2sp="0.1"), "expected a strength >= 0"),
                                      (dict(l2sp=0.1, pretrained=False), "needs pretrained=True"),
                                      (dict(l2sp=0.1, finetune="head"), "finetune='full'")])
def test_l2sp_refuses_what_it_cannot_do(tiny_models, gunpoint_small, kw, says):
    X, y, _, _ = gunpoint_small
    with pytest.raises(ValueError, match=says):
        ConvTimeNetClassifier(model=str(tiny_models["convtimenet"]), epochs=1, **kw).fit(X, y)


def test_label_smoothing_changes_the_loss_and_nothing_else(tiny_models, gunpoint_small):
    from tszoo import estimators

    X, y, Xt, _ = gunpoint_small
    kw = dict(model=str(tiny_models["convtimenet"]), epochs=2, random_state=3)
    estimators.clear_trainers()
    plain = ConvTimeNetClassifier(**kw).fit(X, y)
    smoothed = ConvTimeNetClassifier(label_smoothing=0.2, **kw).fit(X, y)
    # a smoothed target keeps the loss away from zero: at least the entropy of (0.9, 0.1) with two classes, 0.325
    assert min(smoothed.history_["loss"]) >= 0.325
    assert not np.array_equal(plain.model_.get_weights()[-2], smoothed.model_.get_weights()[-2])
    assert len(estimators._trainers.idle) == 2
    again = ConvTimeNetClassifier(**kw).fit(X, y)  # the unsmoothed fit, on its kept network
    for a, b in zip(plain.model_.get_weights(), again.model_.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert smoothed.predict_proba(Xt).shape == (len(Xt), 2)
    with pytest.raises(ValueError, match=r"expected a fraction in \[0, 1\)"):
        ConvTimeNetClassifier(label_smoothing=1.0, **kw).fit(X, y)


def test_a_checkpointed_ensemble_resumes_in_the_network_it_stopped_in(tiny_models, gunpoint_small, tmp_path):
    """With several networks (n_estimators=2, inputs="series+diff": four) each checkpoints in its own subfolder; a
    fit interrupted inside a later network keeps the finished ones and takes up the interrupted one where it
    stopped, ending with exactly the weights and history of an uninterrupted fit, and leaves nothing behind."""
    X, y, Xt, _ = gunpoint_small
    kw = dict(model=str(tiny_models["convtimenet"]), epochs=3, batch_size=16, random_state=2, n_estimators=2,
              inputs="series+diff")
    straight = ConvTimeNetClassifier(**kw).fit(X, y)
    stop_in = int(np.random.default_rng().integers(1, 4))  # the second, third or fourth network

    class Interrupted(Exception):
        pass

    class Interrupt(keras.callbacks.Callback):
        started = 0

        def on_train_begin(self, logs=None):
            Interrupt.started += 1

        def on_epoch_end(self, epoch, logs=None):
            if Interrupt.started == stop_in + 1 and epoch == 1:
                raise Interrupted

    with pytest.raises(Interrupted):
        ConvTimeNetClassifier(checkpoint_dir=tmp_path / "run", **kw).fit(X, y, callbacks=[Interrupt()])
    names = ["member_0", "member_0_diff", "member_1", "member_1_diff"]
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == sorted(names[:stop_in + 1])
    assert all((tmp_path / "run" / n / "finished.json").exists() for n in names[:stop_in])
    assert (tmp_path / "run" / names[stop_in] / "state.json").exists()

    started = []

    class Count(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            started.append(1)

    resumed = ConvTimeNetClassifier(checkpoint_dir=tmp_path / "run", **kw).fit(X, y, callbacks=[Count()])
    assert len(started) == 4 - stop_in  # no finished network is fitted again
    assert not list((tmp_path / "run").iterdir())
    assert resumed.history_ == straight.history_
    for a, b in zip(straight.model_.get_weights(), resumed.model_.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(straight.predict_proba(Xt), resumed.predict_proba(Xt))

    with pytest.raises(Interrupted):  # another fit's finished network is never taken up
        Interrupt.started = 0
        ConvTimeNetClassifier(checkpoint_dir=tmp_path / "run", **kw).fit(X, y, callbacks=[Interrupt()])
    with pytest.raises(ValueError, match="checkpoint of another fit"):
        ConvTimeNetClassifier(checkpoint_dir=tmp_path / "run", **{**kw, "random_state": 3}).fit(X, y)
