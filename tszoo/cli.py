"""The ``tszoo`` command (also ``python -m tszoo``).

Bad input ends in one line naming the problem, no traceback, and a non-zero exit.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from tszoo.precision import PRECISIONS

PRECISION_HELP = ("training arithmetic (mixed_bfloat16: about twice as fast on CPUs with AMX or AVX512-BF16 and on "
                  "GPUs from compute capability 8.0, slower on other CPUs; auto: mixed_bfloat16 where this machine "
                  "has bfloat16 units, else float32; the saved model is float32 either way)")


def _quiet_tensorflow():
    """Import TensorFlow with its C++ start-up lines (printed before logging is set up) kept off stderr."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def cmd_list(args):
    from tszoo.registry import info, list_models, versions

    models = list_models()
    if not models:
        print("no published models found")
        return 0
    print(f"{'name':<14} {'versions':<10} {'output':<8} description")
    for name in models:
        card = info(name)
        print(f"{name:<14} {','.join(map(str, versions(name))):<10} {card.get('output_size', ''):<8} "
              f"{card.get('description', '').split(':')[0]}")
    return 0


def cmd_info(args):
    from tszoo.registry import info

    card = info(args.name, args.version)
    if args.json:
        print(json.dumps(card, indent=2))
    else:
        from pathlib import Path
        print((Path(card["path"]) / "README.md").read_text())
    return 0


def _progress(args, total, desc):
    """A tqdm bar on stderr, silent with --quiet."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=args.quiet, file=sys.stderr, leave=False)


def _epoch_bar(args, epochs, networks=1):
    import keras

    class EpochBar(keras.callbacks.Callback):
        started = 0

        def on_train_begin(self, logs=None):  # one bar per network fine-tuned (the series', the difference's)
            self.started += 1
            self.bar = _progress(args, epochs, "fine-tuning" + (
                f" network {self.started} of {networks}" if networks > 1 else ""))

        def on_epoch_end(self, epoch, logs=None):
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{(logs or {}).get('loss', float('nan')):.4f}")

        def on_train_end(self, logs=None):
            self.bar.close()

    return EpochBar()


def _load_train_test(args):
    from tszoo.datasets import load_ucr, read_labeled

    if args.dataset:
        if args.train or args.test:
            raise ValueError("give either --dataset or --train/--test, not both")
        return (*load_ucr(args.dataset, "train"), *load_ucr(args.dataset, "test"), args.dataset)
    if not (args.train and args.test):
        raise ValueError("give --dataset NAME, or both --train FILE and --test FILE")
    X, y = read_labeled(args.train, args.label_column)
    Xt, yt = read_labeled(args.test, args.label_column)
    return X, y, Xt, yt, Path(args.train).name.split(".")[0].replace("_TRAIN", "")


def _overlap_note(card, data_name):
    """A model's own pretraining data is no test of transfer: say so when a user evaluates on it."""
    seen = card.get("training", {}).get("datasets", [])
    if data_name in seen:
        return (f"note: {data_name} (train and test splits) was among {card['name']}'s pretraining datasets, so "
                "this accuracy is a demonstration, not a transfer result; the model card reports the held-out "
                "target datasets")
    return None


def _epochs(args) -> dict:
    """``--epochs`` when given, else ConvTimeNetClassifier's own default; ``--precision``."""
    return {"precision": args.precision, **({} if args.epochs is None else {"epochs": args.epochs})}


def cmd_finetune(args):
    import numpy as np

    from tszoo.estimators import ConvTimeNetClassifier
    from tszoo.publishing import publish_model
    from tszoo.registry import architecture_of, info, task_of

    card = info(args.name)
    if task_of(card) != "embedding":
        raise ValueError(f"{args.name} is already a fine-tuned classifier; fine-tune a published body (tszoo list)")
    if architecture_of(card) == "timenet":
        raise ValueError(f"{args.name} is a TimeNet embedding model, which is not fine-tuned: its classifier is an "
                         f"SVM on frozen embeddings; run 'tszoo evaluate {args.name} ...' for TN-C")
    X, y, Xt, yt, data_name = _load_train_test(args)
    clf = ConvTimeNetClassifier(model=args.name, random_state=args.seed, checkpoint_dir=args.checkpoint_dir,
                                **_epochs(args))
    began = time.time()
    import keras  # noqa: F401  (after argument checks: importing TensorFlow takes seconds)

    from tszoo.finetuning import budget, default_batch_size

    epochs, _ = budget(len(X), default_batch_size(len(X)), clf.epochs, clf.max_steps)
    clf.fit(X, y, callbacks=[_epoch_bar(args, epochs, clf.n_estimators * len(clf.inputs.split("+")))])
    seconds = time.time() - began
    accuracy = float(np.mean(clf.predict(Xt) == yt))
    name = "".join(c if c.isalnum() or c in "-_" else "_" for c in f"{card['name']}-{data_name}")
    from tszoo.publishing import hardware

    path = publish_model(
        clf.model_, name, root=args.out, architecture="convtimenet", task="classification",
        classes=clf.classes_.tolist(),
        description=f"{card['name']} v{card['version']} fine-tuned on {data_name} ({len(X)} training series).",
        builder={"function": "tszoo.estimators.ConvTimeNetClassifier", "arguments": {
            "model": card["name"], "version": card["version"], "epochs": clf.epochs, "max_steps": clf.max_steps,
            "inputs": clf.inputs, "precision": clf.precision_, "random_state": args.seed}},
        training={"datasets": [data_name], "n_train": len(X), "epochs": clf.epochs_run_,
                  "wall_time_s": round(seconds, 1), "base_model": f"{card['name']}/{card['version']}",
                  "hardware": hardware()},
        metrics={"test_accuracy": accuracy, "n_test": len(Xt)})
    if args.plots:
        from tszoo import plots

        plots.save_finetune_plots(clf, Xt, yt, args.plots)
    if args.export:
        from tszoo.export import export

        # the published folder, so the artifact carries the class labels and version from its card
        export(str(path), Path(args.out) / f"{name}-{args.export}", format=args.export)
    print(f"fine-tuned model saved in {path} (load it with tszoo.load({str(path)!r}))")
    note = _overlap_note(card, data_name)
    if note:
        print(note)
    print(f"test accuracy on {data_name}: {accuracy:.4f} ({len(Xt)} series; fine-tuning took {seconds:.0f} s)")
    return 0


def cmd_evaluate(args):
    import numpy as np

    from tszoo.registry import architecture_of, info, task_of

    card = info(args.name)
    X, y, Xt, yt, data_name = _load_train_test(args)
    if task_of(card) == "classification":
        from tszoo.inference import load_cached, predict_batched
        from tszoo.validation import check_univariate

        classes = np.array(card["classes"])
        proba = predict_batched(load_cached(args.name), check_univariate(Xt)[..., None])
        accuracy = float(np.mean(classes[proba.argmax(1)] == yt))
        method = "fine-tuned classifier"
    elif architecture_of(card) == "timenet":
        from tszoo.estimators import TimeNetClassifier

        accuracy = TimeNetClassifier(model=args.name, probability=False, random_state=args.seed).fit(X, y).score(
            Xt, yt)
        method = "TN-C (frozen embeddings, RBF SVM)"
    else:
        from tszoo.estimators import ConvTimeNetClassifier

        clf = ConvTimeNetClassifier(model=args.name, random_state=args.seed, **_epochs(args))
        accuracy = clf.fit(X, y).score(Xt, yt)
        method = f"fine-tuned ({clf.epochs_run_} epochs; at most {clf.epochs} epochs and {clf.max_steps_} steps)"
    note = _overlap_note(card, data_name)
    if note:
        print(note)
    print(f"{card['name']} v{card['version']} on {data_name}, {method}: test accuracy {accuracy:.4f}")
    return 0


def cmd_embed(args):
    import numpy as np

    from tszoo.datasets import load_ucr, read_unlabeled
    from tszoo.inference import embed, load_cached

    if bool(args.data) == bool(args.dataset):
        raise ValueError("give either --data FILE or --dataset NAME")
    X = read_unlabeled(args.data) if args.data else load_ucr(args.dataset, args.split)[0]
    E = embed(load_cached(args.name), X, progress=not args.quiet)
    np.save(args.out, E)
    print(f"{E.shape[0]} embeddings of size {E.shape[1]} written to {args.out}")
    return 0


def cmd_export(args):
    from tszoo.export import export

    options = {}
    if args.format == "tflite":
        options = {"max_length": args.max_length, "quantize": args.quantize}
    elif args.max_length or args.quantize:
        raise ValueError("--max-length and --quantize apply to --format tflite only")
    path = export(args.name, args.out, format=args.format, version=args.version, **options)
    print(f"{args.format} written to {path}")
    return 0


def cmd_plot(args):
    import numpy as np

    from tszoo import plots
    from tszoo.datasets import load_ucr, read_labeled
    from tszoo.inference import embed, load_cached

    from tszoo.registry import architecture_of, info, task_of

    model = load_cached(args.name)
    card = info(args.name)
    if args.kind == "filters":
        if architecture_of(card) != "convtimenet" or task_of(card) != "embedding":
            raise ValueError(f"{args.name} is not a ConvTimeNet body; filters are plotted for one (tszoo list)")
        fig = plots.first_layer_filters(model, title=f"{args.name}: first-layer filters")
    else:
        if args.dataset:
            X, y = load_ucr(args.dataset, args.split)
            label = args.dataset
        elif args.data:
            X, y = read_labeled(args.data, args.label_column)
            label = Path(args.data).name
        else:
            raise ValueError(f"plot {args.kind} needs --dataset NAME or --data FILE")
        if args.kind == "tsne":
            idx = np.random.default_rng(0).permutation(len(X))[: args.max_series]
            fig = plots.embedding_tsne(embed(model, X[idx]), y[idx], f"{args.name} embeddings of {label}")
        else:
            if task_of(card) != "classification":
                raise ValueError(f"{args.name} is an embedding model; occlusion needs a classifier, e.g. one "
                                 "written by 'tszoo finetune'")
            if not 0 <= args.index < len(X):
                raise ValueError(f"--index {args.index} is out of range for {len(X)} series")
            classes = card.get("classes")
            fig = plots.occlusion_map(model, X[args.index], classes=classes,
                                      title=f"{label} series {args.index} (true class {y[args.index]})")
    print(f"written {plots.save(fig, args.out)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tszoo", description="Pretrained time-series classification models.")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the published models").set_defaults(func=cmd_list)
    p = sub.add_parser("info", help="a model's card")
    p.add_argument("name")
    p.add_argument("--version", type=int, default=None)
    p.add_argument("--json", action="store_true", help="the card as JSON, with file hashes")
    p.set_defaults(func=cmd_info)

    def data_args(p):
        p.add_argument("--dataset", help="a UCR dataset: bundled with aeon, or under $TSZOO_UCR_ROOT")
        p.add_argument("--train", help="training file: .tsv, .tsv.gz, .ts, .csv or .npz")
        p.add_argument("--test", help="test file, same formats")
        p.add_argument("--label-column", default="0", help="CSV label column, by name or position (default 0)")
        p.add_argument("--seed", type=int, default=0)

    p = sub.add_parser("finetune", help="fine-tune a model on a dataset, print test accuracy, save it")
    p.add_argument("name")
    data_args(p)
    p.add_argument("--epochs", type=int, default=None,
                   help="passes over the training data, capped at 250 steps (1,000 from 1,000 training series; "
                   "default: ConvTimeNetClassifier's)")
    p.add_argument("--precision", choices=PRECISIONS, default="float32", help=PRECISION_HELP)
    p.add_argument("--out", default="finetuned", help="models folder for the result (default ./finetuned)")
    p.add_argument("--export", choices=["savedmodel", "tflite", "onnx"], default=None)
    p.add_argument("--plots", default=None, help="folder for training-curve and confusion-matrix PNGs")
    p.add_argument("--checkpoint-dir", default=None,
                   help="checkpoint every epoch here; the same command run again after an interruption continues "
                        "where it stopped (and ends with the same weights)")
    p.set_defaults(func=cmd_finetune)
    p = sub.add_parser("evaluate", help="test accuracy of a model on a dataset")
    p.add_argument("name")
    data_args(p)
    p.add_argument("--epochs", type=int, default=None,
                   help="passes over the training data, capped at 250 steps (1,000 from 1,000 training series; "
                   "default: ConvTimeNetClassifier's)")
    p.add_argument("--precision", choices=PRECISIONS, default="float32", help=PRECISION_HELP)
    p.set_defaults(func=cmd_evaluate)
    p = sub.add_parser("embed", help="write embeddings of a collection of series to .npy")
    p.add_argument("name")
    p.add_argument("--data", help=".npy, .tsv, .tsv.gz, .ts, .csv or .npz")
    p.add_argument("--dataset", help="a UCR dataset")
    p.add_argument("--split", default="train", choices=["train", "test"])
    p.add_argument("--out", default="embeddings.npy")
    p.set_defaults(func=cmd_embed)
    p = sub.add_parser("export", help="export a model as a SavedModel (TF Serving), TFLite or ONNX")
    p.add_argument("name", help="a published model or a version folder (e.g. a fine-tuned model)")
    p.add_argument("--format", choices=["savedmodel", "tflite", "onnx"], default="savedmodel")
    p.add_argument("--out", required=True, help="SavedModel: <base>/<name>/<version> for TF Serving")
    p.add_argument("--version", type=int, default=None)
    p.add_argument("--max-length", type=int, default=None, help="TFLite: fixed length (default: any length)")
    p.add_argument("--quantize", choices=["float16", "dynamic_int8"], default=None)
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("plot", help="pictures as PNG: embedding t-SNE, first-layer filters, occlusion sensitivity")
    p.add_argument("kind", choices=["tsne", "filters", "occlusion"])
    p.add_argument("name", help="a model (for occlusion: a fine-tuned classifier's folder)")
    p.add_argument("--dataset")
    p.add_argument("--data", help="a labelled file: .tsv, .tsv.gz, .ts, .csv or .npz")
    p.add_argument("--label-column", default="0")
    p.add_argument("--split", default="test", choices=["train", "test"])
    p.add_argument("--index", type=int, default=0, help="occlusion: which series")
    p.add_argument("--max-series", type=int, default=1000, help="tsne: at most this many series")
    p.add_argument("--out", required=True, help="PNG file")
    p.set_defaults(func=cmd_plot)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if hasattr(args, "label_column") and args.label_column.lstrip("-").isdigit():
        args.label_column = int(args.label_column)
    try:
        if args.command not in ("list", "info"):
            _quiet_tensorflow()
        return args.func(args)
    except (ValueError, TypeError, FileNotFoundError, FileExistsError, KeyError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"tszoo {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
