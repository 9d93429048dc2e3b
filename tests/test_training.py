"""The shared training loop: exact resume after an interruption, no silent overwrite, tf.distribute, and the same
loop under JAX (a JAX-trained run resumes and publishes under TensorFlow)."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from archive import tiny_archive
from builders.convtimenet import epoch_batches, source_draws
from tszoo.architectures.convtimenet import build_convtimenet, build_multihead, multihead_loss
from tszoo.architectures.timenet import build_timenet, reconstruction_loss
from builders.training import Trainer, length_bucketed

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = os.path.join(REPO, "tests", "tiny_training.py")


def _series(n=48, seed=0):
    rng = np.random.default_rng(seed)
    return [np.sin(np.linspace(0, rng.uniform(1, 4), L) + rng.uniform(0, 3)).astype(np.float32)
            for L in rng.integers(12, 40, size=n)]


def _timenet_trainer(out, strategy=None):
    keras.utils.set_random_seed(0)
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        autoencoder, _ = build_timenet(units=6, num_layers=3, dropout=0.3)  # dropout: its seed state must resume
        optimizer = keras.optimizers.Adam(0.01, global_clipnorm=1.0)
    return Trainer(autoencoder, optimizer, lambda b, out: reconstruction_loss(b, out), out, strategy=strategy,
                   batch_signature=tf.TensorSpec([None, None, 1], tf.float32))


def _history(path):
    return [json.loads(x) for x in (path / "history.jsonl").read_text().splitlines()]


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
    history = _history(tmp_path / "interrupted")
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert [h["loss"] for h in history] == [h["loss"] for h in _history(tmp_path / "straight")]


def test_validation_every_n_epochs_and_after_the_last_resumes_exactly(tmp_path):
    """validate_every=2 over 5 epochs validates after epochs 2, 4 and 5 only; the best weights are the best validated
    epoch's; validating changes nothing in the training (under TensorFlow an inference call of a GRU with dropout
    draws from its seed generator), so an interrupted run resumes to the same records and weights."""
    series = _series(24)
    data = lambda epoch: length_bucketed(series, 8, seed=1, epoch=epoch)  # noqa: E731

    def fit(out, epochs, resume=False):
        trainer = _timenet_trainer(out)
        calls = []

        def validate():  # a validation whose value is known: the loss of the weights just trained, on fixed series
            calls.append(len(calls))
            batch = np.stack([s[:12] for s in series[:8]])[..., None]
            return {"val": float(np.mean(reconstruction_loss(batch, trainer.model(batch))))}
        trainer.fit(data, epochs, validate=validate, monitor="val", validate_every=2, resume=resume, verbose=0)
        return trainer, calls

    straight, calls = fit(tmp_path / "straight", 5)
    history = _history(tmp_path / "straight")
    assert [h["epoch"] for h in history if "val" in h] == [2, 4, 5] and len(calls) == 3
    assert all("validation_seconds" not in h for h in history if h["epoch"] in (1, 3))
    best = min((h for h in history if "val" in h), key=lambda h: h["val"])
    assert [h["epoch"] for h in history if h.get("best")][-1] == best["epoch"]
    plain = _timenet_trainer(tmp_path / "plain")
    plain.fit(data, 5, verbose=0)  # never validated: the same training
    assert [h["loss"] for h in _history(tmp_path / "plain")] == [h["loss"] for h in history]
    fit(tmp_path / "interrupted", 3)  # stops after epoch 3 (validated as its last), as a kill would leave it...
    resumed, _ = fit(tmp_path / "interrupted", 5, resume=True)
    for a, b in zip(straight.model.get_weights(), resumed.model.get_weights()):
        np.testing.assert_array_equal(a, b)
    again = _history(tmp_path / "interrupted")
    assert [h["loss"] for h in again] == [h["loss"] for h in history]
    assert [h["epoch"] for h in again if "val" in h] == [2, 3, 4, 5]  # ...plus the validation of its last epoch
    with pytest.raises(ValueError, match="validate_every"):
        _timenet_trainer(tmp_path / "zero").fit(data, 1, validate=lambda: {}, validate_every=0, verbose=0)


def test_existing_run_is_not_overwritten_without_resume(tmp_path):
    series = _series(16)
    trainer = _timenet_trainer(tmp_path / "run")
    trainer.fit(lambda e: length_bucketed(series, 8, 0, e), 1, verbose=0)
    with pytest.raises(FileExistsError, match="resume"):
        _timenet_trainer(tmp_path / "run").fit(lambda e: length_bucketed(series, 8, 0, e), 2, verbose=0)


def test_a_checkpoint_of_another_architecture_is_refused(tmp_path):
    series = _series(16)
    _timenet_trainer(tmp_path / "run").fit(lambda e: length_bucketed(series, 8, 0, e), 1, verbose=0)
    with tf.distribute.get_strategy().scope():
        other, _ = build_timenet(units=5, num_layers=3, dropout=0.3)
    trainer = Trainer(other, keras.optimizers.Adam(0.01), lambda b, out: reconstruction_loss(b, out),
                      tmp_path / "run", batch_signature=tf.TensorSpec([None, None, 1], tf.float32))
    with pytest.raises(ValueError, match="shape"):
        trainer.fit(lambda e: length_bucketed(series, 8, 0, e), 2, resume=True, verbose=0)


def test_epoch_data_is_a_pure_function_of_seed_and_epoch():
    series = _series(30)
    first = list(length_bucketed(series, 8, seed=5, epoch=2))
    again = list(length_bucketed(series, 8, seed=5, epoch=2))
    other = list(length_bucketed(series, 8, seed=5, epoch=3))
    assert len(first) == len(again) and all(np.array_equal(a, b, equal_nan=True) for a, b in zip(first, again))
    assert not all(a.shape == b.shape and np.array_equal(a, b, equal_nan=True) for a, b in zip(first, other))
    assert sum(len(b) for b in first) == len(series)  # every series once an epoch
    # padding is NaN at the end, never zeros
    for batch in first:
        lengths = (~np.isnan(batch[..., 0])).sum(1)
        for row, n in zip(batch[..., 0], lengths):
            assert not np.isnan(row[:n]).any() and np.isnan(row[n:]).all()


def _sources(sizes, rng):
    sources = []
    for index, n in enumerate(sizes):
        series = [rng.normal(size=int(rng.integers(10, 30))).astype(np.float32) for _ in range(n)]
        sources.append({"index": index, "series": series, "codes": (np.arange(n) % 2).astype(np.int32),
                        "fit": np.arange(n)})
    return sources


def test_convtimenet_batches_mix_sources_and_do_not_starve_small_ones(rng):
    """Batch norm must train on the mixture its moving statistics average over: every batch mixes sources; a
    small source is drawn more than in proportion to its size; the order is a pure function of (seed, epoch)."""
    sizes = [400, 100, 20]
    sources = _sources(sizes, rng)
    offsets = [0, 2, 4]
    batches = list(epoch_batches(sources, offsets, 32, seed=3, epoch=0, temperature=0.5))
    heads = np.concatenate([b[2] for b in batches])
    assert np.mean([len(np.unique(b[2])) > 1 for b in batches]) > 0.9
    counts = np.bincount(heads, minlength=3)
    assert counts.sum() == sum(sizes)
    assert counts.tolist() == source_draws(sizes, 0.5).tolist()
    assert counts[2] / counts.sum() > 2 * sizes[2] / sum(sizes)
    for x, labels, head in batches:  # labels are global columns of their own head
        assert np.all((labels >= np.array(offsets)[head]) & (labels < np.array(offsets)[head] + 2))
        lengths = (~np.isnan(x[..., 0])).sum(1)
        assert all(np.isnan(row[n:]).all() and not np.isnan(row[:n]).any() for row, n in zip(x[..., 0], lengths))
    again = list(epoch_batches(sources, offsets, 32, seed=3, epoch=0, temperature=0.5))
    assert all(np.array_equal(a[0], b[0], equal_nan=True) and np.array_equal(a[2], b[2])
               for a, b in zip(batches, again))
    assert source_draws(sizes, 1.0).tolist() == sizes and len(set(source_draws(sizes, 0.0))) == 1


def test_mirrored_strategy_on_two_cpu_devices_matches_single_device(tmp_path, mirrored_cpus):
    """Multi-head ConvTimeNet: the same loss trajectory on one device and on two mirrored logical CPUs."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 24, 1)).astype(np.float32)
    labels = rng.integers(0, 5, size=32).astype(np.int32)
    head = (labels >= 2).astype(np.int32)
    columns = np.array([0, 0, 1, 1, 1], np.int32)

    def run(strategy, out):
        keras.utils.set_random_seed(0)
        with strategy.scope():
            model = build_multihead(build_convtimenet((3, 5), 4, 1, 4), {"a": 2, "b": 3})
            optimizer = keras.optimizers.SGD(0.05)
        trainer = Trainer(model, optimizer, lambda b, logits: multihead_loss(logits, b[1], columns, b[2]), out,
                          inputs=lambda b: b[0], strategy=strategy, batch_signature=(
                              tf.TensorSpec([None, None, 1], tf.float32), tf.TensorSpec([None], tf.int32),
                              tf.TensorSpec([None], tf.int32)))
        data = lambda e: ((x[i: i + 8], labels[i: i + 8], head[i: i + 8]) for i in range(0, 32, 8))  # noqa: E731
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
        trainer = Trainer(autoencoder, optimizer, lambda b, out: reconstruction_loss(b, out), out,
                          strategy=strategy, batch_signature=tf.TensorSpec([None, None, 1], tf.float32))
        return [h["loss"] for h in trainer.fit(lambda e: length_bucketed(series, 8, 0, e), 3, verbose=0)]

    single = run(tf.distribute.OneDeviceStrategy("/cpu:0"), tmp_path / "one")
    mirrored = run(mirrored_cpus, tmp_path / "two")
    np.testing.assert_allclose(mirrored, single, rtol=0.05)


def _run(args, backend, check=True):
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": REPO}
    env.pop("TF_CONFIG", None)
    done = subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    if check:
        assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.mark.parametrize("model", ["timenet", "convtimenet"])
def test_the_same_loop_under_jax_and_tensorflow_gives_the_same_losses(model, tmp_path):
    """The same code, data and initial weights: a few epochs under each backend lose the same."""
    weights = tmp_path / "init.weights.h5"
    tf_losses = json.loads(_run([TINY, model, str(tmp_path / "tf"), "--save", str(weights)],
                                "tensorflow").stdout.splitlines()[-1])
    jax_losses = json.loads(_run([TINY, model, str(tmp_path / "jax"), "--init", str(weights)],
                                 "jax").stdout.splitlines()[-1])
    np.testing.assert_allclose(jax_losses, tf_losses, rtol=2e-3)
    assert tf_losses[-1] < tf_losses[0]
    assert [h["backend"] for h in _history(tmp_path / "jax")] == ["jax"] * 3


@pytest.mark.parametrize("recipe", ["timenet", "convtimenet"])
def test_a_run_started_under_jax_resumes_and_publishes_under_tensorflow(recipe, tmp_path):
    import tszoo
    from tszoo.registry import info

    archive = tiny_archive(tmp_path)
    out, root = tmp_path / "run", tmp_path / "models"
    small = {"timenet": ["--units", "6", "--num-layers", "2"],
             "convtimenet": ["--filters", "4", "--num-blocks", "2", "--bottleneck", "4", "--kernel-sizes", "3,8"]}
    train = ["-m", f"builders.{recipe}", "train", "--archive", str(archive), "--out", str(out), "--batch-size", "8",
             "--quiet", *small[recipe]]
    _run([*train, "--epochs", "3"], "jax")  # the GPU machine's side: JAX only
    first = _history(out)
    ckpt = out / "checkpoints"
    (ckpt / "latest").write_text("ckpt-2.npz")  # pretend the GPU session ended after epoch 2
    refused = _run([*train, "--epochs", "4", "--resume"], "tensorflow", check=False)
    assert refused.returncode != 0 and "differ from the run" in refused.stderr  # another schedule: refused
    _run([*train, "--epochs", "3", "--resume"], "tensorflow")  # finished here, under TensorFlow
    history = _history(out)
    assert [h["backend"] for h in history] == ["jax", "jax", "tensorflow"]
    np.testing.assert_allclose(history[2]["loss"], first[2]["loss"], rtol=2e-3)  # same state, same data
    _run(["-m", f"builders.{recipe}", "publish", "--run", str(out), "--root", str(root)], "tensorflow")
    version = root / recipe / "1"
    model = tszoo.load(str(version))  # hashes verified
    sessions = info(str(version))["training"]["hardware"]
    assert [h.rsplit("(", 1)[1] for h in sessions] == ["jax)", "tensorflow)"]
    x = np.sin(np.linspace(0, 6, 30, dtype=np.float32))[None, :, None]
    assert np.all(np.isfinite(model.predict(x, verbose=0)))
    # the card's time is the epochs' training seconds; the validation after each epoch is counted apart
    training = info(str(version))["training"]
    assert training["wall_time_s"] == round(sum(h["seconds"] for h in history))
    assert training["epochs_with_validation_timed"] == 3 and training["validation_seconds"] >= 0
    if recipe == "timenet":  # selection by TN-C on the labelled validation datasets, recorded every epoch
        card = info(str(version))
        errors = [h["val_tnc_error"] for h in history]
        assert all(0.0 <= e <= 1.0 for e in errors) and (out / "best_tnc.weights.h5").exists()
        assert card["metrics"]["validation_tnc_error"] == min(errors)
        assert card["training"]["best_epoch_of_last_phase"] == history[int(np.argmin(errors))]["epoch"]
        assert "TN-C" in card["training"]["selection"]
        # any kept checkpoint can be published instead (a choice made after the run), and says so on its card
        _run(["-m", "builders.timenet", "publish", "--run", str(out), "--root", str(root), "--checkpoint", "3",
              "--selection-note", "chosen by a test"], "tensorflow")
        chosen = info(str(root / "timenet" / "2"))
        assert chosen["training"]["best_epoch_of_last_phase"] == 3
        assert chosen["training"]["selection"] == "chosen by a test"
        from tszoo.checkpointing import load_model_values

        autoencoder, encoder = build_timenet(units=6, num_layers=2, dropout=0.0)
        assert load_model_values(ckpt / "ckpt-3.npz", autoencoder)["epoch"] == 3
        np.testing.assert_allclose(tszoo.load(str(root / "timenet" / "2")).predict(x, verbose=0),
                                   encoder.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
        refused = _run(["-m", "builders.timenet", "publish", "--run", str(out), "--root", str(root),
                        "--checkpoint", "1"], "tensorflow", check=False)  # only the last 2 are kept
        assert refused.returncode != 0 and "ckpt-1.npz" in refused.stderr


def test_timenet_recipe_validating_every_second_epoch_publishes_the_best_validated_epoch(tmp_path):
    """On a GPU the validation costs four epochs' steps: ``--validate-every`` thins it; publishing chooses among the
    validated epochs and says how many there were."""
    from tszoo.registry import info

    archive, out, root = tiny_archive(tmp_path), tmp_path / "run", tmp_path / "models"
    _run(["-m", "builders.timenet", "train", "--archive", str(archive), "--out", str(out), "--batch-size", "8",
          "--quiet", "--units", "6", "--num-layers", "2", "--epochs", "3", "--validate-every", "2"], "tensorflow")
    history = _history(out)
    assert ["val_tnc_error" in h for h in history] == [False, True, True]
    assert json.loads((out / "settings.json").read_text())["validate_every"] == 2
    for select in ("mse", "tnc"):
        _run(["-m", "builders.timenet", "publish", "--run", str(out), "--root", str(root), "--select", select],
             "tensorflow")
    key = {"mse": "val_reconstruction_mse", "tnc": "val_tnc_error"}
    for version, select in ((1, "mse"), (2, "tnc")):
        card = info(str(root / "timenet" / str(version)))
        best = min(history[1:], key=lambda h: h[key[select]])
        assert card["training"]["best_epoch_of_last_phase"] == best["epoch"]
        assert "(2 of 3)" in card["training"]["selection"]


PRECISE_BN_UNDER_JAX = """
import json, keras, numpy as np
import tszoo.finetuning as F
from tszoo.architectures.convtimenet import build_convtimenet
rng = np.random.default_rng(0)
model = build_convtimenet([3, 8], 4, 2, 4)
batches = [rng.normal(size=(n, L, 1)).astype(np.float32) for n, L in [(5, 20), (7, 37), (3, 50)]]
batches[1][0, 20:] = np.nan  # a shorter series in the batch: NaN padding at its end
read = lambda: [keras.ops.convert_to_numpy(v).tolist() for l in F.batchnorm_layers(model)
                for v in (l.moving_mean, l.moving_variance)]
F.precise_batchnorm(model, batches)  # the jitted pass
jitted = read()
F._jax_statistics = lambda model, layers: None  # the eager pass
F.precise_batchnorm(model, batches)
print(json.dumps([jitted, read()]))
"""


def test_precise_batchnorm_under_jax_jitted_equals_eager():
    """Under JAX the precise statistics come from one jitted pass per batch shape (a validation after every epoch
    on a GPU took 40 s eagerly); they must be the eager pass's, NaN padding included."""
    jitted, eager = json.loads(_run(["-c", PRECISE_BN_UNDER_JAX], "jax").stdout.splitlines()[-1])
    assert len(jitted) == len(eager) > 0
    for a, b in zip(jitted, eager):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    assert any(np.ptp(a) > 0 for a in jitted)  # statistics, not the initial zeros and ones



def test_checkpoints_keep_the_newest_and_every_nth(tmp_path):
    """``keep_every=N`` keeps ``ckpt-N``, ``ckpt-2N``, ... beside the newest two: candidates to choose among after
    a run; without it only the newest two stay."""
    from tszoo.checkpointing import Checkpoint

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    optimizer = keras.optimizers.Adam()
    optimizer.build(model.trainable_variables)
    for keep_every, kept in ((0, [6, 7]), (3, [3, 6, 7])):
        checkpoint = Checkpoint(tmp_path / str(keep_every), model, optimizer, 2, keep_every)
        for epoch in range(1, 8):
            checkpoint.save(epoch, {"epoch": epoch})
        assert sorted(int(p.stem.split("-")[1]) for p in checkpoint.folder.glob("ckpt-*.npz")) == kept
    with pytest.raises(ValueError, match="keep_every"):
        Checkpoint(tmp_path / "x", model, optimizer, 2, -1)


def test_timenet_continued_from_a_published_encoder(tmp_path):
    """``--init-encoder`` starts from a published encoder with a fresh decoder; ``--freeze-encoder`` trains the
    decoder alone (the encoder's embeddings stay the published ones); a second phase with ``--init`` trains both;
    the card's schedule says all of it. Misuse is refused with a reason."""
    import tszoo
    from builders.timenet import copy_encoder
    from tszoo.registry import info

    archive, root = tiny_archive(tmp_path), tmp_path / "models"
    small = ["--archive", str(archive), "--batch-size", "8", "--quiet", "--units", "6", "--num-layers", "2"]
    base, frozen, both = tmp_path / "base", tmp_path / "frozen", tmp_path / "both"
    _run(["-m", "builders.timenet", "train", *small, "--out", str(base), "--epochs", "2"], "tensorflow")
    _run(["-m", "builders.timenet", "publish", "--run", str(base), "--root", str(root)], "tensorflow")
    published = str(root / "timenet" / "1")
    _run(["-m", "builders.timenet", "train", *small, "--out", str(frozen), "--epochs", "4", "--keep-every", "2",
          "--init-encoder", published, "--freeze-encoder"], "tensorflow")
    assert sorted(p.name for p in (frozen / "checkpoints").glob("ckpt-*.npz")) == [
        "ckpt-2.npz", "ckpt-3.npz", "ckpt-4.npz"]
    settings = json.loads((frozen / "settings.json").read_text())
    assert settings["init_encoder"] == "timenet/1" and settings["freeze_encoder"] is True
    _run(["-m", "builders.timenet", "train", *small, "--out", str(both), "--epochs", "2", "--init", str(frozen)],
         "tensorflow")
    for run, version in ((frozen, 2), (both, 3)):
        _run(["-m", "builders.timenet", "publish", "--run", str(run), "--root", str(root), "--select", "mse"],
             "tensorflow")
    x = np.sin(np.linspace(0, 6, 30, dtype=np.float32))[None, :, None]
    embed = lambda version: tszoo.load(str(root / "timenet" / str(version))).predict(x, verbose=0)
    np.testing.assert_allclose(embed(2), embed(1), rtol=1e-6, atol=1e-7)  # frozen: the published encoder
    assert np.abs(embed(3) - embed(1)).max() > 1e-4  # the second phase trained it
    schedule = info(str(root / "timenet" / "3"))["training"]["schedule"]
    assert "timenet/1's encoder, decoder fresh, encoder frozen" in schedule and "phase 2" in schedule
    assert [h["loss"] for h in _history(frozen)][-1] < _history(frozen)[0]["loss"]  # the decoder learned

    refused = _run(["-m", "builders.timenet", "train", *small, "--out", str(tmp_path / "x"), "--freeze-encoder"],
                   "tensorflow", check=False)
    assert refused.returncode != 0 and "--init-encoder or --init" in refused.stderr
    _, wider = build_timenet(units=8, num_layers=2, dropout=0.0)
    with pytest.raises(ValueError, match="same units"):
        copy_encoder(tszoo.load(published), wider)


def test_convtimenet_pretrained_in_bfloat16_resumes_in_it_and_publishes_a_float32_network(tmp_path):
    """``--precision mixed_bfloat16``: the body computes in bfloat16 (the losses differ from float32's, by rounding
    only), checkpoints resume only in the run's precision (a run from before the option existed is float32), and
    ``publish`` gives a float32 network whose embeddings are those of the run's weights in float32."""
    import tszoo
    from builders import convtimenet
    from tszoo.registry import info

    archive, root = tiny_archive(tmp_path), tmp_path / "models"
    small = ["--archive", str(archive), "--batch-size", "8", "--quiet", "--filters", "4", "--num-blocks", "2",
             "--bottleneck", "4", "--kernel-sizes", "3,8", "--precise-bn-batches", "2"]
    mixed, plain = tmp_path / "mixed", tmp_path / "plain"
    convtimenet.main(["train", *small, "--out", str(mixed), "--epochs", "2", "--precision", "mixed_bfloat16"])
    convtimenet.main(["train", *small, "--out", str(plain), "--epochs", "2"])
    a, b = [h["loss"] for h in _history(mixed)], [h["loss"] for h in _history(plain)]
    assert a != b and np.allclose(a, b, rtol=0.05)  # the same run in other arithmetic
    assert json.loads((mixed / "settings.json").read_text())["precision"] == "mixed_bfloat16"
    with pytest.raises(ValueError, match="precision: run has 'mixed_bfloat16', given 'float32'"):
        convtimenet.main(["train", *small, "--out", str(mixed), "--epochs", "2", "--resume"])
    settings = json.loads((plain / "settings.json").read_text())
    del settings["precision"]  # a run begun before the option existed
    (plain / "settings.json").write_text(json.dumps(settings))
    with pytest.raises(ValueError, match="precision: run has 'float32', given 'mixed_bfloat16'"):
        convtimenet.main(["train", *small, "--out", str(plain), "--epochs", "2", "--resume", "--precision",
                          "mixed_bfloat16"])
    with pytest.raises(SystemExit):  # argparse names the choices
        convtimenet.main(["train", *small, "--out", str(tmp_path / "x"), "--precision", "float16"])

    convtimenet.main(["publish", "--run", str(mixed), "--root", str(root)])
    model = tszoo.load(str(root / "convtimenet" / "1"))
    assert {layer.dtype_policy.name for layer in model._flatten_layers()} == {"float32"}
    assert info(str(root / "convtimenet" / "1"))["training"]["precision"] == "mixed_bfloat16"
    x = np.sin(np.linspace(0, 6, 30, dtype=np.float32))[None, :, None]
    published = model.predict(x, verbose=0)
    # the same weights in the bfloat16 body compute nearly, not exactly, the same embedding
    from tszoo.precision import body_in_precision

    twin = body_in_precision(model, "mixed_bfloat16")
    twin.set_weights(model.get_weights())
    rounded = np.asarray(twin(x, training=False))
    assert rounded.dtype == np.float32 and not np.array_equal(rounded, published)
    np.testing.assert_allclose(rounded, published, atol=0.05 * np.abs(published).max())
