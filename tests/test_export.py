"""Every artifact of both models gives the Keras model's answer (max abs difference 1e-5, float32)."""

import json
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from conftest import ragged_batch

import tszoo
from tszoo.datasets import load_ucr
from tszoo.export import export, inference_copy, write_models_config
from tszoo.serving import LocalServable, predict_request, response_array

TOL = 1e-5


@pytest.fixture(scope="module")
def inputs():
    rng = np.random.default_rng(3)
    X, _ = load_ucr("GunPoint", "test")
    real = X[:6, :, None].copy()
    real[1, 100:] = np.nan  # a NaN-padded batch of mixed lengths from real series
    real[4, 37:] = np.nan
    return {"random": ragged_batch(rng, [50, 17, 33, 50], trailing_zeros=3), "real": real}


@pytest.fixture(scope="module", params=["timenet", "convtimenet"])
def published(request, tiny_models):
    path = tiny_models[request.param]
    return request.param, path, tszoo.load(str(path))


def test_inference_copy_drops_dropout_but_not_weights(published, inputs):
    _, _, model = published
    copy = inference_copy(model)
    np.testing.assert_array_equal(copy.predict(inputs["real"], verbose=0), model.predict(inputs["real"], verbose=0))


def test_savedmodel_serving_contract_grpc_and_rest(published, inputs, tmp_path):
    name, path, model = published
    base = tmp_path / "serving"
    out = export(str(path), base / name / "1")
    assert (out / "saved_model.pb").exists()
    meta = json.loads((out / "assets.extra" / "tszoo.json").read_text())
    assert meta["output"] == "embedding" and meta["input"] == "series"
    servable = LocalServable(out)
    for x in inputs.values():
        expected = model.predict(x, verbose=0)
        response = servable.predict(predict_request(x, name, version=1))
        np.testing.assert_allclose(response_array(response, "embedding"), expected, atol=TOL)
        body = json.dumps({"instances": x.tolist()})  # NaN padding travels as JSON NaN
        rest = json.loads(servable.rest_predict(body))
        np.testing.assert_allclose(np.array(rest["predictions"]), expected, atol=TOL)
    config = write_models_config(base).read_text()
    assert f'name: "{name}"' in config and f'base_path: "/models/{name}"' in config
    with pytest.raises(FileExistsError):
        export(str(path), base / name / "1")


def test_keras_tfsmlayer_reads_the_savedmodel(published, inputs, tmp_path):
    import keras

    _, path, model = published
    layer = keras.layers.TFSMLayer(str(path), call_endpoint="serving_default")
    out = layer(tf.constant(inputs["real"]))
    np.testing.assert_allclose(out["embedding"].numpy(), model.predict(inputs["real"], verbose=0), atol=TOL)


def _run_tflite(path, x, fixed_batch):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    runner = interpreter.get_signature_runner()
    if fixed_batch:
        return np.concatenate([runner(series=x[i: i + 1])["embedding"] for i in range(len(x))])
    return runner(series=x)["embedding"]


@pytest.mark.parametrize("max_length", [None, 160])
def test_tflite_builtins_only_matches_keras(published, inputs, tmp_path, max_length):
    name, path, model = published
    out = export(str(path), tmp_path / f"{name}.tflite", format="tflite", max_length=max_length)
    meta = json.loads((tmp_path / f"{name}.tflite.json").read_text())
    assert meta["max_length"] == max_length
    for x in inputs.values():
        if max_length:  # series up to max_length, NaN-padded to it
            padded = np.full((len(x), max_length, 1), np.nan, np.float32)
            padded[:, : x.shape[1]] = x
            x_in = padded
        else:
            x_in = x
        got = _run_tflite(out, x_in, fixed_batch=name == "timenet")
        np.testing.assert_allclose(got, model.predict(x, verbose=0), atol=TOL)


def test_tflite_quantized_variants_stay_close(published, inputs, tmp_path):
    name, path, model = published
    x = inputs["real"]
    expected = model.predict(x, verbose=0)
    for quantize in ("float16", "dynamic_int8"):
        out = export(str(path), tmp_path / f"{name}-{quantize}.tflite", format="tflite", quantize=quantize)
        got = _run_tflite(out, x, fixed_batch=name == "timenet")
        scale = np.abs(expected).max()
        assert np.abs(got - expected).max() < 0.1 * scale  # close, not equal: the weights are rounded


def test_onnx_dynamic_batch_and_length_matches_keras(published, inputs, tmp_path):
    import onnx
    import onnxruntime as ort

    name, path, model = published
    out = export(str(path), tmp_path / f"{name}.onnx", format="onnx")
    proto = onnx.load(str(out))
    meta = {p.key: json.loads(p.value) for p in proto.metadata_props}
    assert meta["output"] == "embedding"
    if name == "timenet":
        assert any(n.op_type in ("Loop", "Scan") for n in proto.graph.node)  # masked GRUs became loops
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].name == "series"
    for x in inputs.values():
        got = session.run(["embedding"], {"series": x})[0]
        np.testing.assert_allclose(got, model.predict(x, verbose=0), atol=TOL)


def _metadata_of(path, fmt):
    if fmt == "savedmodel":
        return json.loads((path / "assets.extra" / "tszoo.json").read_text())
    if fmt == "tflite":
        return json.loads(Path(f"{path}.json").read_text())
    import onnx

    return {p.key: json.loads(p.value) for p in onnx.load(str(path)).metadata_props}


def test_finetuned_classifier_exports_carry_labels_and_version_in_every_format(tiny_models, tmp_path):
    import onnxruntime as ort

    from tszoo.estimators import ConvTimeNetClassifier
    from tszoo.publishing import publish_model
    from tszoo.registry import info

    X, y = load_ucr("GunPoint", "train")
    y = np.where(y == 1, "gun", "point")  # string labels survive too
    clf = ConvTimeNetClassifier(model=str(tiny_models["convtimenet"]), epochs=1, random_state=0).fit(X, y)
    saved = publish_model(clf.model_, "gp", root=tmp_path, architecture="convtimenet", task="classification",
                          classes=clf.classes_.tolist(), builder={"function": "x", "arguments": {}})
    card = info(str(saved))
    assert (card["task"], card["architecture"], card["classes"]) == ("classification", "convtimenet",
                                                                    ["gun", "point"])
    assert "pipeline_tag: feature-extraction" not in (saved / "README.md").read_text()
    for source, label in ((str(saved), "published"), (clf, "estimator")):
        for fmt, suffix in (("savedmodel", ""), ("tflite", ".tflite"), ("onnx", ".onnx")):
            out = export(source, tmp_path / f"{label}-{fmt}{suffix}", format=fmt)
            meta = _metadata_of(out, fmt)
            assert meta["output"] == "probabilities" and meta["classes"] == ["gun", "point"], (label, fmt)
            if label == "published":
                assert (meta["model"], meta["version"]) == ("gp", 1), fmt
    session = ort.InferenceSession(str(tmp_path / "published-onnx.onnx"), providers=["CPUExecutionProvider"])
    got = session.run(["probabilities"], {"series": X[:5, :, None]})[0]
    np.testing.assert_allclose(got, clf.predict_proba(X[:5]), atol=TOL)


def test_export_refuses_bad_options(tiny_models, tmp_path):
    with pytest.raises(ValueError, match="format"):
        export(str(tiny_models["convtimenet"]), tmp_path / "x", format="coreml")
    with pytest.raises(TypeError, match="unknown option"):
        export(str(tiny_models["convtimenet"]), tmp_path / "x.onnx", format="onnx", max_length=3)
    with pytest.raises(ValueError, match="quantize"):
        export(str(tiny_models["convtimenet"]), tmp_path / "x.tflite", format="tflite", quantize="int4")


def test_a_series_and_difference_classifier_exports_its_own_difference(tiny_models, tmp_path):
    """ConvTimeNetClassifier(inputs="series+diff") differences the series inside its model: the ONNX and TFLite
    artifacts take the raw NaN-padded series and give the estimator's probabilities, padded series included."""
    import onnxruntime as ort
    from ai_edge_litert.interpreter import Interpreter

    from tszoo.estimators import ConvTimeNetClassifier

    X, y = load_ucr("GunPoint", "train")
    clf = ConvTimeNetClassifier(model=str(tiny_models["convtimenet"]), epochs=1, inputs="series+diff",
                                random_state=0).fit(X[:30], y[:30])
    x = X[30:36, :, None].copy()
    x[1, 90:] = np.nan  # a shorter series, NaN-padded
    expected = clf.predict_proba(x[..., 0])
    onnx_path = export(clf, tmp_path / "both.onnx", format="onnx")
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(["probabilities"], {"series": x})[0], expected, atol=TOL)
    lite = Interpreter(model_path=str(export(clf, tmp_path / "both.tflite", format="tflite")))
    np.testing.assert_allclose(lite.get_signature_runner()(series=x)["probabilities"], expected, atol=TOL)
