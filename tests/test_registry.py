"""Registry round trip with a model trained here for a few steps and published into a temporary folder."""

import json
import os
import stat

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import ragged_batch

import tszoo
from tszoo.architectures.convtimenet import build_convtimenet
from tszoo.publishing import publish_model
from tszoo.registry import CARD, MODELS_ENV


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    keras.utils.set_random_seed(0)
    root = tmp_path_factory.mktemp("models")
    body = build_convtimenet(kernel_sizes=(3, 5), filters=4, num_blocks=1)
    clf = keras.Sequential([body, keras.layers.Dense(2, activation="softmax")])
    clf.compile("adam", "sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = ragged_batch(rng, [20] * 8)
    clf.fit(x, np.arange(8) % 2, epochs=2, verbose=0)
    path = publish_model(body, "toy", root=root, architecture="convtimenet", description="a toy", builder={
        "function": "tszoo.architectures.convtimenet.build_convtimenet",
        "arguments": {"kernel_sizes": [3, 5], "filters": 4, "num_blocks": 1}},
        training={"datasets": ["GunPoint"], "steps": 2}, metrics={"accuracy": 0.5})
    return root, path, body, x


def test_round_trip_by_name_path_and_version(published, monkeypatch):
    root, path, body, x = published
    monkeypatch.setenv(MODELS_ENV, str(root))
    assert "toy" in tszoo.list_models()
    assert tszoo.versions("toy") == [1]
    card = tszoo.info("toy")
    assert card["version"] == 1 and card["output_size"] == 8 and card["metrics"]["accuracy"] == 0.5
    assert card["signature"] == {"name": "serving_default", "input": "series", "output": "embedding"}
    expected = body.predict(x, verbose=0)
    for model in (tszoo.load("toy"), tszoo.load(str(path)), tszoo.load("toy", version=1)):
        np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-6)
    readme = (path / "README.md").read_text()
    assert readme.startswith("---\n") and "library_name: keras" in readme and "toy v1" in readme


def test_savedmodel_serves_the_same_numbers(published):
    _, path, body, x = published
    serve = tf.saved_model.load(str(path)).signatures["serving_default"]
    out = serve(series=tf.constant(x))
    np.testing.assert_allclose(out["embedding"].numpy(), body.predict(x, verbose=0), atol=1e-5)


def test_num_classes_adds_a_trainable_head(published, monkeypatch):
    root, _, _, x = published
    monkeypatch.setenv(MODELS_ENV, str(root))
    model = tszoo.load("toy", num_classes=3)
    probs = model.predict(x, verbose=0)
    assert probs.shape == (8, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert model.get_layer("probabilities").trainable and len(model.trainable_weights) > 2
    with pytest.raises(ValueError, match="num_classes"):
        tszoo.load("toy", num_classes=1)


def test_new_version_and_never_overwrite(published):
    root, path, body, _ = published
    with pytest.raises(FileExistsError, match="never overwritten"):
        publish_model(body, "toy", root=root, version=1, architecture="convtimenet",
                      builder={"function": "x", "arguments": {}})
    second = publish_model(body, "toy", root=root, architecture="convtimenet", builder={"function": "x", "arguments": {}})
    assert second.name == "2"
    assert not [p for p in (root / "toy").iterdir() if not p.name.isdigit()]


def test_unknown_name_lists_available(published, monkeypatch):
    root, *_ = published
    monkeypatch.setenv(MODELS_ENV, str(root))
    with pytest.raises(ValueError, match="available: .*toy"):
        tszoo.load("nosuchmodel")
    with pytest.raises(ValueError, match="no version 9"):
        tszoo.load("toy", version=9)


def _copy(path, tmp_path):
    import shutil
    dst = tmp_path / "copy" / "1"
    shutil.copytree(path, dst)
    return dst


def test_tampered_file_is_refused_and_named(published, tmp_path):
    _, path, _, _ = published
    copy = _copy(path, tmp_path)
    with open(copy / "variables" / "variables.data-00000-of-00001", "r+b") as f:
        f.seek(10)
        byte = f.read(1)
        f.seek(10)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(tszoo.IntegrityError, match="variables.data-00000-of-00001 has changed"):
        tszoo.load(str(copy))


def test_missing_file_is_refused_and_named(published, tmp_path):
    _, path, _, _ = published
    copy = _copy(path, tmp_path)
    os.remove(copy / "model.keras")
    with pytest.raises(tszoo.IntegrityError, match="model.keras is missing"):
        tszoo.load(str(copy))
    card = json.loads((copy / CARD).read_text())
    assert "model.keras" in card["files"]


def test_loads_from_a_read_only_folder(published, tmp_path):
    _, path, body, x = published
    copy = _copy(path, tmp_path)
    for p in [copy, *copy.rglob("*")]:
        mode = stat.S_IREAD | (stat.S_IXUSR if p.is_dir() else 0)
        os.chmod(p, mode)
    try:
        model = tszoo.load(str(copy))
        np.testing.assert_allclose(model.predict(x, verbose=0), body.predict(x, verbose=0), atol=1e-6)
    finally:
        for p in [copy, *copy.rglob("*")]:
            os.chmod(p, stat.S_IRWXU)


def test_a_path_that_is_not_a_model_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a published model version"):
        tszoo.load(str(tmp_path))


def test_published_models_load_outside_the_source_tree(tmp_path):
    """From another working directory, as a user of the installed package: the zoo's models are found."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != MODELS_ENV}
    code = ("import tszoo, numpy as np; print(sorted(tszoo.list_models())); m = tszoo.load('convtimenet'); "
            "print(m.predict(np.zeros((1, 30, 1), 'float32'), verbose=0).shape)")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "'convtimenet'" in out.stdout and "(1, 128)" in out.stdout
