"""What quantising the TFLite artifacts costs in accuracy, measured on real data.

    python -m benchmarks.quantization_accuracy [--datasets ECG200,SyntheticControl,Coffee] [--out bench_out/quant]
        [--timenet NAME_OR_FOLDER] [--convtimenet NAME_OR_FOLDER] [--kinds timenet,convtimenet]

TimeNet: the TN-C SVM is fitted once on the Keras model's float32 embeddings of the training split; the test
split is then embedded by each TFLite variant (float32, float16 weights, dynamic-range int8) and classified by
that same SVM. ConvTimeNet: a classifier fine-tuned on the training split is exported in each variant and its
test accuracy measured. Also the largest absolute change of the output against Keras. Writes ``quant.md``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

VARIANTS = (None, "float16", "dynamic_int8")


def run_tflite(flatbuffer: bytes, X3: np.ndarray, output: str, fixed_batch: bool) -> np.ndarray:
    from ai_edge_litert.interpreter import Interpreter
    from tszoo.layers import valid_lengths

    runner = Interpreter(model_content=flatbuffer).get_signature_runner()
    if fixed_batch:  # one series at a time, each at its own length
        lengths = valid_lengths(X3[..., 0])
        return np.concatenate([runner(series=X3[i: i + 1, : lengths[i]])[output] for i in range(len(X3))])
    return runner(series=X3)[output]


def _timenet_rows(lines, names, timenet, model_name, dataset, X, y, Xt, yt):
    from tszoo.estimators import TimeNetClassifier
    from tszoo.export import has_recurrence, to_tflite
    from tszoo.inference import embed

    # TimeNet: one SVM, fitted on Keras float32 embeddings; only the test embeddings change. The exported
    # artifact gives the published embedding (each layer's final state), so the SVM is fitted on that.
    clf = TimeNetClassifier(model=model_name, probability=False, random_state=0, cv=3, pooling="last").fit(X, y)
    keras_E = embed(timenet, Xt)
    keras_acc = float(np.mean(clf.predict_embeddings(keras_E) == yt))
    lines.append(f"| timenet | {dataset} | Keras | - | {keras_acc:.4f} | - | - |")
    for variant in VARIANTS:
        flat = to_tflite(timenet, quantize=variant)
        E = run_tflite(flat, Xt[..., None], "embedding", fixed_batch=has_recurrence(timenet))
        acc = float(np.mean(clf.predict_embeddings(E) == yt))
        lines.append(f"| timenet | {dataset} | {names[variant]} | {len(flat) / 1024:.0f} | {acc:.4f} | "
                     f"{acc - keras_acc:+.4f} | {np.abs(E - keras_E).max():.2e} |")


def _convtimenet_rows(lines, names, args, dataset, X, y, Xt, yt):
    from tszoo.estimators import ConvTimeNetClassifier
    from tszoo.export import inference_copy, to_tflite

    # ConvTimeNet: a fine-tuned classifier, exported.
    ctn = ConvTimeNetClassifier(model=args.convtimenet, epochs=args.epochs, max_steps=250, random_state=0).fit(X, y)
    model = inference_copy(ctn.model_)
    keras_P = ctn.predict_proba(Xt)
    keras_acc = float(np.mean(ctn.classes_[keras_P.argmax(1)] == yt))
    lines.append(f"| convtimenet (fine-tuned) | {dataset} | Keras | - | {keras_acc:.4f} | - | - |")
    for variant in VARIANTS:
        flat = to_tflite(model, quantize=variant)
        P = run_tflite(flat, Xt[..., None], "probabilities", fixed_batch=False)
        acc = float(np.mean(ctn.classes_[P.argmax(1)] == yt))
        lines.append(f"| convtimenet (fine-tuned) | {dataset} | {names[variant]} | {len(flat) / 1024:.0f} | "
                     f"{acc:.4f} | {acc - keras_acc:+.4f} | {np.abs(P - keras_P).max():.2e} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="ECG200,SyntheticControl,Coffee")
    parser.add_argument("--archive", default=None)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--out", default="bench_out/quant")
    parser.add_argument("--timenet", default="timenet", help="a registered name or a published model's folder")
    parser.add_argument("--convtimenet", default="convtimenet", help="a registered name or a published folder")
    parser.add_argument("--kinds", default="timenet,convtimenet", help="which models to measure")
    args = parser.parse_args(argv)
    kinds = set(args.kinds.split(","))
    if not kinds or kinds - {"timenet", "convtimenet"}:
        parser.error(f"--kinds {args.kinds!r}: expected a comma-separated subset of timenet,convtimenet")

    from builders.data import archive_root
    from tszoo.datasets import load_ucr
    from tszoo.export import inference_copy
    from tszoo.inference import load_cached

    archive = archive_root(args.archive)
    names = {None: "float32", "float16": "float16", "dynamic_int8": "int8 (dynamic range)"}
    lines = ["| model | dataset | variant | size KiB | test accuracy | change vs Keras | max abs output change |",
             "|---|---|---|---|---|---|---|"]
    timenet = inference_copy(load_cached(args.timenet)) if "timenet" in kinds else None
    for dataset in args.datasets.split(","):
        X, y = load_ucr(dataset, "train", root=archive)
        Xt, yt = load_ucr(dataset, "test", root=archive)
        if timenet is not None:
            _timenet_rows(lines, names, timenet, args.timenet, dataset, X, y, Xt, yt)
        if "convtimenet" in kinds:
            _convtimenet_rows(lines, names, args, dataset, X, y, Xt, yt)
        print("\n".join(lines[-10:]), flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "quant.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
