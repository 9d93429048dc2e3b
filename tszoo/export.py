"""Exporting tszoo models: SavedModel for TF Serving, TFLite (LiteRT) and ONNX.

Every artifact carries its own preprocessing: the model's first layer derives the mask from NaN padding and
z-normalises each series, so a consumer feeds raw NaN-padded float32 ``[batch, time, 1]``. Each artifact records
its metadata (model, version, output name, class labels of a classifier): in ``assets.extra/tszoo.json`` for a
SavedModel, in the ONNX model's ``metadata_props``, and in ``<file>.json`` beside a ``.tflite`` file.

    tszoo.export("convtimenet", "serving/convtimenet/1")                 # SavedModel, TF Serving layout
    tszoo.export("timenet", "timenet.tflite", format="tflite", max_length=512)
    tszoo.export(my_finetuned_model, "clf.onnx", format="onnx")
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from tszoo.checkpointing import replace_atomically
from tszoo.layers import INPUT_NAME

FORMATS = ("savedmodel", "tflite", "onnx")
QUANTIZATIONS = (None, "float16", "dynamic_int8")


def output_name(model) -> str:
    """``probabilities`` for a classifier (softmax head named so), ``embedding`` for an embedding model."""
    return "probabilities" if any(layer.name == "probabilities" for layer in model.layers) else "embedding"


def has_recurrence(model) -> bool:
    import keras

    def walk(m):
        for layer in m.layers:
            if isinstance(layer, keras.layers.RNN) or isinstance(layer, keras.layers.GRU):
                return True
            if isinstance(layer, keras.Model) and walk(layer):
                return True
        return False

    return walk(model)


def inference_copy(model):
    """The same model and weights with every dropout rate set to 0.

    Dropout does nothing at inference, but its random-seed state is a variable that TFLite's converter cannot
    freeze; without it every converter sees a plain, stateless graph.
    """
    import keras

    def clone(layer):
        if isinstance(layer, keras.Model):
            return keras.models.clone_model(layer, clone_function=clone)
        config = layer.get_config()
        for key in ("dropout", "recurrent_dropout", "rate"):
            if key in config and isinstance(layer, (keras.layers.Dropout, keras.layers.RNN, keras.layers.GRU,
                                                    keras.layers.LSTM)):
                config[key] = 0.0
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    return copy


def _metadata(model, card: dict | None, extra: dict | None = None) -> dict:
    from tszoo.heads import OUTPUT_NAME
    from tszoo.registry import task_of

    card = card or {}
    if not card:  # a bare Keras model: its head's layer name tells
        output = output_name(model)
    else:
        output = OUTPUT_NAME if card.get("classes") is not None or task_of(card) == "classification" else "embedding"
    meta = {"input": INPUT_NAME, "input_layout": "float32 [batch, time, 1], shorter series NaN-padded at the end",
            "output": output, "model": card.get("name", model.name), "version": card.get("version")}
    if card.get("classes") is not None:
        meta["classes"] = card["classes"]
    return {**meta, **(extra or {})}


def write_savedmodel(model, path, output: str | None = None, *, batch_size=None, max_length=None,
                     metadata: dict | None = None) -> Path:
    """Write ``model`` as a SavedModel that TF Serving loads.

    Signature ``serving_default``: input ``series`` float32 ``[batch, time, 1]`` (NaN-padded), output ``output``
    (default: :func:`output_name`). ``path`` must not exist yet.
    """
    import keras
    import tensorflow as tf

    path = Path(path)
    output = output or output_name(model)
    archive = keras.export.ExportArchive()
    archive.track(model)

    def serve(series):
        return {output: model(series, training=False)}

    archive.add_endpoint(name="serving_default", fn=serve,
                         input_signature=[tf.TensorSpec([batch_size, max_length, 1], tf.float32, name=INPUT_NAME)])
    archive.write_out(str(path), verbose=False)
    if metadata is not None:
        (path / "assets.extra").mkdir(exist_ok=True)
        (path / "assets.extra" / "tszoo.json").write_text(json.dumps(metadata, indent=2))
    return path


def to_tflite(model, *, max_length=None, batch_size="auto", quantize=None) -> bytes:
    """A builtins-only TFLite flatbuffer (no Flex delegate needed).

    ``max_length``: the fixed time dimension (series up to it, NaN-padded) or ``None`` for any length (resize
    the input before allocating). ``batch_size``: ``"auto"`` fixes it to 1 for recurrent models (TFLite lowers
    their loop only with a static batch) and leaves it dynamic otherwise. ``quantize``: ``None``, ``"float16"``
    (weights stored in float16) or ``"dynamic_int8"`` (weights in int8, activations float).
    """
    import tensorflow as tf

    if quantize not in QUANTIZATIONS:
        raise ValueError(f"quantize={quantize!r}; expected one of {QUANTIZATIONS}")
    if max_length is not None and (not isinstance(max_length, int) or max_length < 1):
        raise ValueError(f"max_length={max_length!r}; expected a positive integer or None")
    if batch_size == "auto":
        batch_size = 1 if has_recurrence(model) else None
    with tempfile.TemporaryDirectory() as tmp:
        write_savedmodel(model, Path(tmp) / "sm", batch_size=batch_size, max_length=max_length)
        converter = tf.lite.TFLiteConverter.from_saved_model(str(Path(tmp) / "sm"))
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        if quantize == "float16":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.target_spec.supported_types = [tf.float16]
        elif quantize == "dynamic_int8":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        return converter.convert()


def to_onnx(model, opset: int = 17):
    """An ONNX model (via tf2onnx) with dynamic batch and length; the masked GRUs become ONNX loops."""
    import tensorflow as tf
    import tf2onnx

    spec = tf.TensorSpec([None, None, 1], tf.float32, name=INPUT_NAME)
    output = output_name(model)

    @tf.autograph.experimental.do_not_convert
    def serve(series):
        return {output: model(series, training=False)}

    fn = tf.function(serve, input_signature=[spec])
    proto, _ = tf2onnx.convert.from_function(fn, input_signature=[spec], opset=opset, output_path=None)
    return proto


def _write_new(path: Path, write) -> Path:
    """Write through a temporary sibling renamed into place: a crash leaves nothing half-written; an existing
    path is never overwritten."""
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path} exists; choose a new path (exports never overwrite)")
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_atomically(path, write)
    return path


def export(model_or_name, path, format: str = "savedmodel", *, version=None, **options) -> Path:
    """Export a published model (by name or version folder) or a ``keras.Model`` to ``path``.

    Formats:
        ``savedmodel``: a SavedModel directory (give ``<base>/<name>/<version>`` for TF Serving).
        ``tflite``: a ``.tflite`` file; options ``max_length``, ``batch_size``, ``quantize`` (see
            :func:`to_tflite`).
        ``onnx``: a ``.onnx`` file; option ``opset``.
    ``model_or_name`` may also be a fitted ``ConvTimeNetClassifier`` (its class labels go into the metadata) or
    a published fine-tuned version folder (labels and version from its card). The artifact's metadata (model,
    version, output name, class labels of a classifier) is recorded with it.
    """
    import keras

    from tszoo.registry import info, load

    if format not in FORMATS:
        raise ValueError(f"format={format!r}; expected one of {FORMATS}")
    card = None
    if isinstance(model_or_name, keras.Model):
        model = model_or_name
    elif hasattr(model_or_name, "model_") and hasattr(model_or_name, "classes_"):  # a fitted tszoo classifier
        model = model_or_name.model_
        card = {"name": model.name, "version": None, "classes": model_or_name.classes_.tolist(),
                "body": {"model": str(getattr(model_or_name, "model", "")), "version": getattr(model_or_name,
                                                                                             "version", None)}}
    else:
        model, card = load(model_or_name, version), info(model_or_name, version)
    model = inference_copy(model)
    path = Path(path)
    if format == "savedmodel":
        unknown = set(options) - {"batch_size", "max_length"}
        if unknown:
            raise TypeError(f"unknown option(s) {sorted(unknown)} for format 'savedmodel'")
        meta = _metadata(model, card)
        return _write_new(path, lambda tmp: write_savedmodel(model, tmp, metadata=meta, **options))
    if format == "tflite":
        unknown = set(options) - {"max_length", "batch_size", "quantize"}
        if unknown:
            raise TypeError(f"unknown option(s) {sorted(unknown)} for format 'tflite'")
        flatbuffer = to_tflite(model, **options)
        meta = _metadata(model, card, {"max_length": options.get("max_length"),
                                       "quantize": options.get("quantize")})
        sidecar = Path(f"{path}.json")
        if sidecar.exists():
            raise FileExistsError(f"{sidecar} exists; choose a new path (exports never overwrite)")
        _write_new(path, lambda tmp: tmp.write_bytes(flatbuffer))
        replace_atomically(sidecar, lambda tmp: tmp.write_text(json.dumps(meta, indent=2)))
        return path
    unknown = set(options) - {"opset"}
    if unknown:
        raise TypeError(f"unknown option(s) {sorted(unknown)} for format 'onnx'")
    proto = to_onnx(model, **options)
    for key, value in _metadata(model, card).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, json.dumps(value)
    return _write_new(path, lambda tmp: tmp.write_bytes(proto.SerializeToString()))


def write_models_config(base, names=None) -> Path:
    """TF Serving's ``models.config`` for every model folder under ``base`` (or the given names)."""
    base = Path(base)
    names = names or sorted(p.name for p in base.iterdir() if p.is_dir() and any(c.name.isdigit()
                                                                                  for c in p.iterdir()))
    entries = "\n".join(f'  config {{\n    name: "{n}"\n    base_path: "/models/{n}"\n    model_platform: '
                        f'"tensorflow"\n  }}' for n in names)
    path = base / "models.config"
    path.write_text(f"model_config_list {{\n{entries}\n}}\n")
    return path
